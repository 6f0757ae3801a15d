import Numerics

/// A test-only attacker: what a Byzantine node sends instead of its model (`[NODE] attack`,
/// `attackers`, `attack_scale`; docs/operations.md, "Robust aggregation").
///
/// It exists to measure robust aggregation on real processes. It cannot be switched on by one
/// stray line: `attack` and `attackers` must both be set and name real uids, every node of such
/// a run logs at start which uids attack, and an attacker logs a warning at start and at the
/// end and records `attack` in its results.
public struct Attack: Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable, CaseIterable {
    /// s·x: the model blown up (s = 10 by default).
    case scaled
    /// −s·x: the model turned around (s = 4 by default).
    case signFlip = "sign_flip"
    /// N(0, s²) per parameter, a fresh draw every round (s = 1 by default).
    case random
  }

  public var kind: Kind
  public var scale: Double

  public init(kind: Kind, scale: Double? = nil) {
    self.kind = kind
    switch kind {
    case .scaled: self.scale = scale ?? 10
    case .signFlip: self.scale = scale ?? 4
    case .random: self.scale = scale ?? 1
    }
  }

  public var description: String {
    switch kind {
    case .scaled: return "scaled models (\(scale) × its own)"
    case .signFlip: return "sign-flipped models (−\(scale) × its own)"
    case .random: return "random models (N(0, \(scale)²) per parameter)"
    }
  }
}

/// Turns a node's model into the attack's model each round, in a buffer of its own (the node
/// keeps training and averaging its real model).
final class Attacker {
  let attack: Attack
  private let poisoned: FloatBuffer
  private let key: UInt64

  init(_ attack: Attack, parameterCount: Int, seed: UInt64, uid: Int) {
    self.attack = attack
    poisoned = FloatBuffer(count: parameterCount)
    var stream = RandomStreams(seed: seed).stream("attack", index: UInt64(truncatingIfNeeded: uid))
    key = stream.next()
  }

  /// What the node sends in `round` in place of `x`.
  func model(for x: FloatBuffer, round: Int) -> FloatBuffer {
    let s = Float(attack.scale)
    switch attack.kind {
    case .scaled, .signFlip:
      let factor = attack.kind == .scaled ? s : -s
      for i in 0..<x.count { poisoned[i] = factor * x[i] }
    case .random:
      var mix = SplitMix64(seed: key ^ UInt64(truncatingIfNeeded: round))
      var rng = Xoshiro256(seed: mix.next())
      for i in 0..<x.count { poisoned[i] = Float(attack.scale * rng.normal()) }
    }
    return poisoned
  }
}
