import Foundation
import Models
import Numerics
import Transport

/// What a checkpoint holds besides the float sections.
struct CheckpointMeta: Codable, Equatable {
  var uid: Int
  var algorithm: String
  var sharing: String
  var model: String
  var parameterCount: Int
  var seed: UInt64
  /// The round this node was in when the checkpoint was written (completed, unless `reason` is
  /// "stop": then it was abandoned and is trained again).
  var round: Int
  var reason: String
  var optimizerCounters: [Int]
  var optimizerBuffers: Int
  var batchPosition: Int
  var shuffleState: [UInt64]
  var peerChoiceState: [UInt64]

  /// Reads the meta section of a checkpoint file.
  static func read(_ file: CheckpointFile, path: String) throws -> CheckpointMeta {
    guard let bytes = file["meta"], let meta = try? JSONDecoder().decode(Self.self, from: Data(bytes)) else {
      throw CheckpointError.corrupt(path, "no readable meta section")
    }
    return meta
  }

  /// Refuses a checkpoint written by another node, model, algorithm or sharing method.
  func check(uid: Int, model: String, parameterCount: Int, algorithm: String, sharing: String, path: String) throws {
    func mismatch(_ what: String, _ saved: String, _ now: String) -> CheckpointError {
      .mismatch(path, "\(what) is \(saved) in the checkpoint, \(now) in this run")
    }
    guard self.uid == uid else { throw mismatch("uid", "\(self.uid)", "\(uid)") }
    guard self.parameterCount == parameterCount, self.model == model else {
      throw mismatch("the model", "\(self.model) (\(self.parameterCount))", "\(model) (\(parameterCount))")
    }
    guard self.algorithm == algorithm else { throw mismatch("algorithm", self.algorithm, algorithm) }
    guard self.sharing == sharing else { throw mismatch("sharing", self.sharing, sharing) }
  }
}

/// Checks before any socket opens that `--resume` has a checkpoint that fits this run.
enum CheckpointPreview {
  static func check(plan: NodePlan, parts: NodeFactory.Parts) throws {
    guard let path = plan.checkpointPath else { throw CheckpointError.missing("(no log dir)") }
    guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError.missing(path) }
    let meta = try CheckpointMeta.read(try CheckpointFile.decode([UInt8](data), path: path), path: path)
    try meta.check(
      uid: plan.uid, model: parts.model.name, parameterCount: parts.model.parameterCount, algorithm: plan.algorithm,
      sharing: parts.sharing.name, path: path)
  }
}

/// Checkpoints and resume: every `checkpoint_every` rounds (and on a stop signal) the whole node
/// state — model, optimizer, round, RNG streams, batch position, sharing and algorithm state,
/// byte counters and the recorded series — goes to `<uid>.checkpoint`, atomically.
extension Node {
  func writeCheckpoint(reason: String) {
    guard let path = plan.checkpointPath else { return }
    do {
      let iterator = trainer.iteratorState
      let optimizerState = optimizer.exportState()
      let meta = CheckpointMeta(
        uid: uid, algorithm: plan.algorithm, sharing: sharing.name, model: model.name,
        parameterCount: model.parameterCount, seed: plan.seed, round: currentRound, reason: reason,
        optimizerCounters: optimizerState.counters, optimizerBuffers: optimizerState.buffers.count,
        batchPosition: iterator.position, shuffleState: iterator.rng, peerChoiceState: peerChoice.state)
      var file = CheckpointFile()
      let json = JSONEncoder()
      file["meta"] = Array(try json.encode(meta))
      file["parameters"] = Self.bytes(of: model.parameters.array)
      for (i, buffer) in optimizerState.buffers.enumerated() { file["optimizer.\(i)"] = Self.bytes(of: buffer) }
      file["trainer.order"] = Self.bytes(of: iterator.order.map { UInt32($0) })
      file["algorithm"] = try algorithm.checkpointState()
      file["sharing"] = sharing.checkpointState()
      file["ledger"] = Array(try json.encode(link.ledger))
      if let privacy = privacyCheckpoint() { file["privacy"] = privacy }
      flushResultsIntoRecord()
      file["results"] = Array(try json.encode(results.results))
      try FileSystem.write(file.encoded(), to: path, for: "write the checkpoint")
      var e = NodeEvent(kind: .checkpoint, uid: uid, time: elapsed, round: currentRound)
      e.reason = reason
      events.append(e)
    } catch {
      log.error("\(error)")
    }
  }

  private func flushResultsIntoRecord() {
    let rejected = rejectedFrames()
    results.update { $0.rejectedFrames = rejected }
    recordPrivacy()
  }

  /// Continues from the checkpoint at `plan.checkpointPath`. Called before `run()`.
  public func resume() throws {
    guard let path = plan.checkpointPath else { throw CheckpointError.missing("(no log dir)") }
    guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError.missing(path) }
    let file = try CheckpointFile.decode([UInt8](data), path: path)
    let json = JSONDecoder()
    func section(_ name: String) throws -> [UInt8] {
      guard let s = file[name] else { throw CheckpointError.corrupt(path, "no '\(name)' section") }
      return s
    }
    let meta = try CheckpointMeta.read(file, path: path)
    try meta.check(
      uid: uid, model: model.name, parameterCount: model.parameterCount, algorithm: plan.algorithm,
      sharing: sharing.name, path: path)

    let parameters: [Float] = try Self.values(try section("parameters"), count: model.parameterCount, path: path)
    var buffers: [[Float]] = []
    for i in 0..<meta.optimizerBuffers {
      buffers.append(try Self.values(try section("optimizer.\(i)"), count: model.parameterCount, path: path))
    }
    let order: [UInt32] = try Self.values(try section("trainer.order"), count: trainer.sampleCount, path: path)
    guard let choice = Xoshiro256(state: meta.peerChoiceState) else {
      throw CheckpointError.corrupt(path, "bad peer-choice state")
    }
    let ledger: TrafficLedger
    let saved: NodeResults
    do {
      ledger = try json.decode(TrafficLedger.self, from: Data(try section("ledger")))
      saved = try json.decode(NodeResults.self, from: Data(try section("results")))
    } catch let e as CheckpointError { throw e } catch { throw CheckpointError.corrupt(path, "\(error)") }

    // Everything is read and checked; now change the node.
    do {
      try optimizer.importState(
        OptimizerState(counters: meta.optimizerCounters, buffers: buffers), parameterCount: model.parameterCount)
      try trainer.restore(.init(order: order.map { Int($0) }, position: meta.batchPosition, rng: meta.shuffleState))
      try algorithm.restoreState(try section("algorithm"))
      try sharing.restoreState(try section("sharing"))
      try restorePrivacy(file["privacy"], path: path)
    } catch let e as CheckpointError { throw e } catch { throw CheckpointError.corrupt(path, "\(error)") }
    for (i, v) in parameters.enumerated() { model.parameters[i] = v }
    peerChoice = choice
    link.restore(ledger: ledger)
    var record = saved
    record.resumes += 1
    record.outcome = "running"
    results.restore(record)
    currentRound = meta.round
    resumedFrom = meta.round
    log.info("resumed from \(path): round \(meta.round) (\(meta.reason)), \(saved.roundsCompleted) rounds done before")
  }

  static func bytes<T: BitwiseCopyable>(of values: [T]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
  }

  static func values<T: BitwiseCopyable>(_ bytes: [UInt8], count: Int, path: String) throws -> [T] {
    guard bytes.count == count * MemoryLayout<T>.stride else {
      throw CheckpointError.corrupt(
        path, "a section holds \(bytes.count) bytes, expected \(count * MemoryLayout<T>.stride)")
    }
    guard count > 0 else { return [] }
    return [T](unsafeUninitializedCapacity: count) { buffer, n in
      _ = bytes.withUnsafeBytes { memcpy(buffer.baseAddress!, $0.baseAddress!, bytes.count) }
      n = count
    }
  }
}
