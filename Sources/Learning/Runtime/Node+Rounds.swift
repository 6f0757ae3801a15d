import Foundation
import Numerics

/// Finishing a round: what is recorded, when evaluation and checkpoints run, progress.
extension Node {
  public func completeRound(trainLoss: Double?, mixedWith: [Int]) throws {
    let r = currentRound
    let roundTime = now - phase.roundStart
    // A neighbour that completed the run in this round and was averaged with in it counts as up
    // through it, so that whether its BYE landed before this round's end does not change the
    // record (lockstep rounds only; `finishedPeers`).
    let live = peers.neighbours.filter {
      let state = peers.state(of: $0)
      return state == .up || (state == .departed && finishedPeers[$0] == r && mixedWith.contains($0))
    }
    let alone = mixedWith.isEmpty && !peers.neighbours.isEmpty && plan.role == .peer
    results.update {
      $0.roundsCompleted += 1
      $0.elapsedTime[r] = elapsed
      $0.roundTime[r] = roundTime
      $0.trainTime[r] = phase.train
      $0.communicateTime[r] = phase.communicate
      $0.averageTime[r] = phase.average
      if let cpu = clock.cpuSeconds() { $0.cpuTime[r] = cpu }
      $0.mixedWith[r] = mixedWith.sorted()
      $0.liveNeighbours[r] = live
      if let trainLoss { $0.trainBatchLoss[r] = trainLoss }
      if alone { $0.isolatedRounds += 1 }
    }
    results.recordTraffic(r, ledger: link.ledger)
    if alone { log.debug("round \(r): averaged with nobody") }

    var evaluated = false
    let last = r >= plan.iterations
    if plan.role != .client {
      if plan.trainEvaluateAfter > 0 && trainer.sampleCount > 0 && (r % plan.trainEvaluateAfter == 0 || last) {
        let loss = timed(.evaluate) { evaluator.trainLoss(model, between: serviceBetweenBatches) }
        results.update { $0.trainLoss[r] = loss }
        evaluated = true
      }
      if plan.testAfter > 0 && (r % plan.testAfter == 0 || last) {
        try evaluate(round: r)
        evaluated = true
      }
    }
    results.update { $0.evaluateTime[r] = phase.evaluate }
    let checkpointDue = plan.checkpointEvery > 0 && r % plan.checkpointEvery == 0
    if checkpointDue { writeCheckpoint(reason: "schedule") }
    // Also every couple of seconds, so a node that is killed leaves results behind.
    if evaluated || checkpointDue || now - lastFlush > Self.flushInterval { flushResults() }

    var e = NodeEvent(kind: .round, uid: uid, time: elapsed, round: r)
    let rec = results.results
    e.iterations = plan.iterations
    e.trainLoss = rec.trainLoss[r] ?? trainLoss
    e.testLoss = rec.testLoss[r]
    e.testAcc = rec.testAcc[r]
    e.testRMSE = rec.testRMSE[r]
    e.bytesSent = rec.totalBytes[r]
    e.metaSent = rec.totalMeta[r]
    e.trainTime = phase.train
    e.communicateTime = phase.communicate
    e.averageTime = phase.average
    e.evaluateTime = phase.evaluate
    e.mixedWith = mixedWith.sorted()
    e.liveNeighbours = live
    events.append(e)
    StandardError.writeOut(
      "progress uid=\(uid) round=\(r)/\(plan.iterations) mixed=\(mixedWith.count) time=\(String(format: "%.4f", roundTime))"
        + (results.lastTestSummary.map { " \($0)" } ?? ""))
  }

  /// A run ended by STOP (a random walk: the first node to reach `iterations` ends it for all)
  /// leaves every other node at its own round count, usually between test rounds: its final
  /// model is evaluated and recorded at its last completed round, so every node's results end
  /// with the model it finished with.
  func evaluateFinalModel() throws {
    guard plan.role != .client, plan.testAfter > 0, let last = results.results.roundTime.rounds.last else { return }
    guard results.results.testLoss[last] == nil else { return }
    try evaluate(round: last)
  }

  /// Round 0: the model before any training, so that every curve starts where the run did.
  /// Bytes are recorded as 0 at round 0 (only control frames have gone out), so that every
  /// evaluated round has a `total_bytes`, as decentralizepy's eval/plot.py expects.
  func evaluateAtStart() throws {
    // FedAvg's server holds no training shard: it has no train loss, not one of 0.
    if plan.trainEvaluateAfter > 0 && trainer.sampleCount > 0 {
      let loss = timed(.evaluate) { evaluator.trainLoss(model, between: serviceBetweenBatches) }
      results.update { $0.trainLoss[0] = loss }
    }
    if plan.testAfter > 0 { try evaluate(round: 0) }
    results.update {
      $0.totalBytes[0] = 0
      $0.totalMeta[0] = 0
      $0.totalDataPerN[0] = 0
      $0.elapsedTime[0] = elapsed
    }
    var e = NodeEvent(kind: .evaluation, uid: uid, time: elapsed, round: 0)
    let rec = results.results
    e.iterations = plan.iterations
    e.trainLoss = rec.trainLoss[0]
    e.testLoss = rec.testLoss[0]
    e.testAcc = rec.testAcc[0]
    e.testRMSE = rec.testRMSE[0]
    e.bytesSent = 0
    e.metaSent = 0
    e.evaluateTime = phase.evaluate
    events.append(e)
    flushResults()
  }

  /// Evaluates on the test (and validation) set and records it under `round`.
  func evaluate(round: Int) throws {
    let tally = timed(.evaluate) { evaluator.test(model, between: serviceBetweenBatches) }
    results.recordTest(round, tally)
    if let validation = timed(.evaluate, { evaluator.validate(model, between: serviceBetweenBatches) }) {
      results.recordValidation(round, validation)
    }
    if round == 0 { results.update { $0.evaluateTime[0] = phase.evaluate } }
    log.info("round \(round): \(results.lastTestSummary ?? "")")
  }

  /// Evaluation passes call this between batches: heartbeats keep going during a long pass. A
  /// transport that closed meanwhile is noticed at the next wait.
  var serviceBetweenBatches: () -> Void { { [unowned self] in try? serviceNetwork() } }

  func timed<T>(_ p: PhaseClock.Phase, _ body: () throws -> T) rethrows -> T {
    let t0 = now
    defer { phase.add(p, now - t0) }
    return try body()
  }
}
