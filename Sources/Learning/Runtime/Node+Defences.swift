import Logging
import Numerics
import Sharing
import Transport

/// The runtime's side of hostile settings: robust aggregation's announcement, the
/// differential-privacy release of what a node shares, and the test-only attacker.
extension Node {
  /// Logs, at start, how this node combines and protects models, and loudly if it attacks.
  func announceDefences() {
    if let robust = aggregator.robust { log.info("aggregation: \(robust.rule)") }
    if let p = plan.privacy {
      log.info(
        "differential privacy: updates clipped to L2 \(p.clip), Gaussian noise σ = \(p.sigma) × clip, \(p.noise.rawValue) noise"
      )
      if p.noise == .seeded && p.sigma > 0 {
        log.warning(
          "dp_noise = seeded: the noise derives from random_seed, which every node's config holds; whoever knows it can remove the noise. For experiments only; set dp_noise = system where privacy matters"
        )
      }
    }
    if let attacker {
      log.warning(
        "ATTACKER (test only): this node sends \(attacker.attack) instead of its model ([NODE] attack); never in a real run"
      )
    }
  }

  /// Before a share is framed: the DP release, if the model holds training not yet released
  /// (the model becomes what it shares). A share with no training since the last one releases
  /// nothing new.
  func releaseForSharing() {
    guard let privacy, let norm = privacy.release(model.parameters, round: currentRound) else { return }
    let r = currentRound
    results.update { record in
      var p = record.privacy ?? PrivacyRecord(privacy.settings)
      p.updateNorm[r] = norm
      record.privacy = p
    }
  }

  /// The parameters this round's shares are made of: the model, or the attack's model.
  func sharedParameters() -> FloatBuffer {
    attacker?.model(for: model.parameters, round: currentRound) ?? model.parameters
  }

  /// After averaging: the model is public again (a function of released models) unless it
  /// still holds unreleased training.
  func rebasePrivacy() { privacy?.rebase(on: model.parameters) }

  /// The checkpoint section that lets a resumed node continue its releases: the public state
  /// (float32), then the counts and the pending flag (three little-endian Int64).
  func privacyCheckpoint() -> [UInt8]? {
    guard let privacy else { return nil }
    var bytes = Self.bytes(of: privacy.reference.array)
    for v in [Int64(privacy.releases), Int64(privacy.clipped), privacy.pending ? 1 : 0] {
      withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
    }
    return bytes
  }

  /// A resumed node continues from the checkpoint's public state and counts: its restored model
  /// may hold training it never released (a checkpoint written on a stop signal mid-round).
  func restorePrivacy(_ section: [UInt8]?, path: String) throws {
    guard let privacy else { return }
    let floats = 4 * model.parameterCount
    guard let section else {
      throw CheckpointError.mismatch(
        path,
        "differential privacy is off in the checkpoint, on in this run (dp_clip); its model was shared without noise")
    }
    guard section.count == floats + 24 else {
      throw CheckpointError.corrupt(path, "the privacy section holds \(section.count) bytes, expected \(floats + 24)")
    }
    let reference: [Float] = try Self.values(Array(section[0..<floats]), count: model.parameterCount, path: path)
    let counts: [Int64] = try Self.values(Array(section[floats...]), count: 3, path: path)
    let (releases, clipped, pending) = (
      Int(Int64(littleEndian: counts[0])), Int(Int64(littleEndian: counts[1])), counts[2] != 0
    )
    guard releases >= 0, clipped >= 0, clipped <= releases else {
      throw CheckpointError.corrupt(path, "the privacy section counts \(clipped) clipped of \(releases) releases")
    }
    privacy.restore(reference: reference, releases: releases, clipped: clipped, pending: pending)
  }

  func recordPrivacy() {
    guard let privacy else { return }
    let (rdp, exact) = privacy.epsilon
    results.update { record in
      var p = record.privacy ?? PrivacyRecord(privacy.settings)
      p.roundsShared = privacy.releases
      p.roundsClipped = privacy.clipped
      p.epsilon = rdp
      p.epsilonExact = exact
      record.privacy = p
    }
  }
}
