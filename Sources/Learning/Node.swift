import Datasets
import Logging
import Models
import Numerics
import Sharing
import Transport

/// One peerd process's state, and the one loop that drives it.
///
/// Single-threaded by design (DESIGN decision 2): the thread that calls `run()` owns the sockets,
/// the model and every buffer. Every wait is a poll with a deadline through `wait(for:until:)`,
/// which is also where inbound messages are dispatched: control messages update `peers`, model
/// messages go to the algorithm. Algorithms are strategies called from here; there is no other loop.
public final class Node {
  public let plan: NodePlan
  public var uid: Int { plan.uid }
  public let model: any Model
  public let optimizer: any Optimizer
  public let trainer: LocalTrainer
  public let evaluator: Evaluator
  public let sharing: any SharingStrategy
  public let aggregator: Aggregator
  public let link: PeerLink
  public let algorithm: any Algorithm
  public let results: ResultsRecorder
  public var log: Logger
  public internal(set) var peers: PeerTable

  private let startTime: Double
  private var lastRoundEnd: Double
  private var lastHeartbeat: Double = 0

  public init(
    plan: NodePlan, model: any Model, optimizer: any Optimizer, data: NodeShard, sharing: any SharingStrategy,
    transport: any MessageTransport, algorithm: any Algorithm, log: Logger
  ) {
    self.plan = plan
    self.model = model
    self.optimizer = optimizer
    self.sharing = sharing
    self.algorithm = algorithm
    self.log = log
    let streams = RandomStreams(seed: plan.seed)
    trainer = LocalTrainer(
      data: data.train, batchSize: plan.batchSize, stepsPerRound: plan.localSteps, fullEpochs: plan.fullEpochs,
      shuffle: plan.shuffle, rng: streams.stream(.shuffle, index: UInt64(plan.uid)))
    evaluator = Evaluator(
      test: data.test, train: data.train, validation: data.validation, batchSize: plan.evaluationBatchSize)
    aggregator = Aggregator(parameterCount: model.parameterCount)
    link = PeerLink(uid: plan.uid, transport: transport, parameterCount: model.parameterCount, sharing: sharing)
    peers = PeerTable(neighbours: plan.neighbours)
    results = ResultsRecorder(path: plan.resultsPath, isRegression: model.lossKind == .meanSquaredError)
    startTime = MonotonicClock.now()
    lastRoundEnd = startTime
  }

  // MARK: - The loop

  /// Runs the node from the start barrier to BYE. Returns normally when the run is complete.
  public func run() throws {
    log.info(
      "node \(uid) up: \(model.name) with \(model.parameterCount) parameters, \(trainer.sampleCount) training samples, neighbours \(peers.neighbours)"
    )
    startBarrier()
    results.markStart(elapsed: MonotonicClock.now() - startTime)
    if plan.evaluateBeforeTraining { evaluate(round: 0) }
    while try algorithm.runIteration(node: self) {}
    shutdown()
  }

  /// Says HELLO to every neighbour until each has answered or `start_timeout` passes.
  func startBarrier() {
    let deadline = MonotonicClock.now() + plan.startTimeout
    var nextHello = 0.0
    while peers.neighbours.contains(where: { peers.state(of: $0) == .unknown }) {
      let now = MonotonicClock.now()
      if now >= deadline {
        let missing = peers.neighbours.filter { peers.state(of: $0) == .unknown }
        log.warning("start barrier: no HELLO from \(missing) within \(plan.startTimeout) s; starting without them")
        for m in missing { peers.markDown(m) }
        break
      }
      if now >= nextHello {
        for p in peers.neighbours where peers.state(of: p) == .unknown {
          link.sendControl(.hello, to: p, degree: peers.neighbours.count)
        }
        nextHello = now + 0.25
      }
      pump(timeout: min(0.05, max(0, deadline - now)))
    }
    log.info("start barrier passed: \(peers.up.count)/\(peers.neighbours.count) neighbours up")
  }

  /// Waits until `condition` holds, dispatching messages meanwhile. A live neighbour that stays
  /// silent for `peer_timeout` is marked down (which usually makes the condition true). Returns
  /// whether the condition holds; it never waits longer than `peer_timeout` past the last message.
  @discardableResult
  public func wait(for what: String, until condition: () -> Bool) -> Bool {
    let waitStart = MonotonicClock.now()
    while !condition() {
      let now = MonotonicClock.now()
      for p in peers.live {
        let heard = max(peers.peer(p)?.lastHeard ?? 0, waitStart)
        if now - heard > plan.peerTimeout {
          log.warning(
            "neighbour \(p) silent for \(String(format: "%.1f", now - heard)) s while waiting for \(what); marked down")
          peers.markDown(p)
        }
      }
      if condition() { break }
      // Nobody left to wait for: only a returning peer could help, and only within the timeout.
      if peers.live.isEmpty && now - waitStart > plan.peerTimeout { return false }
      // No heartbeats while waiting: two nodes waiting on each other must not keep each other
      // alive forever. Heartbeats go out only while training (`serviceNetwork`).
      pump(timeout: 0.05)
    }
    return true
  }

  /// Drains messages without blocking: called between local training batches so that control
  /// messages are answered and heartbeats go out while a long epoch runs.
  public func serviceNetwork() {
    while pump(timeout: 0) {}
    heartbeatIfDue()
  }

  private func heartbeatIfDue() {
    let now = MonotonicClock.now()
    guard now - lastHeartbeat > plan.peerTimeout / 3 else { return }
    lastHeartbeat = now
    for p in peers.live { link.sendControl(.heartbeat, to: p, degree: peers.liveDegree) }
  }

  /// Receives and dispatches at most one message. Returns whether one was handled.
  @discardableResult
  func pump(timeout: Double) -> Bool {
    guard let event = link.receive(timeout: timeout) else { return false }
    let now = MonotonicClock.now()
    switch event {
    case .hello(let from, let degree):
      guard peers.contains(from) else {
        log.debug("HELLO from non-neighbour \(from) ignored")
        return true
      }
      if peers.heard(from: from, at: now, degree: degree) { log.info("neighbour \(from) is back (HELLO)") }
      link.sendControl(.helloAck, to: from, degree: peers.neighbours.count)
    case .helloAck(let from, let degree):
      peers.heard(from: from, at: now, degree: degree)
    case .heartbeat(let from):
      peers.heard(from: from, at: now)
    case .bye(let from):
      log.info("neighbour \(from) said BYE")
      peers.markDeparted(from)
    case .model(let message):
      let useful = algorithm.receive(message, node: self)
      if useful && peers.contains(message.sender) {
        if peers.heard(from: message.sender, at: now, degree: message.degree) {
          log.info("neighbour \(message.sender) is back (model)")
        }
      }
    }
    return true
  }

  // MARK: - Rounds, evaluation, results

  /// Records a finished round: timing, traffic, and evaluation on the configured schedule.
  public func completedRound(_ round: Int, trainLoss: Double?, mixedWith: [Int]) {
    let now = MonotonicClock.now()
    let roundTime = now - lastRoundEnd
    lastRoundEnd = now
    results.recordRound(round, elapsed: now - startTime, roundTime: roundTime, ledger: link.ledger)
    if plan.trainEvaluateAfter > 0 && (round % plan.trainEvaluateAfter == 0 || round == plan.iterations) {
      let loss = evaluator.trainLoss(model)
      results.recordTrainLoss(round, loss)
    }
    if let trainLoss { results.recordBatchLoss(round, trainLoss) }
    if plan.testAfter > 0 && (round % plan.testAfter == 0 || round == plan.iterations) {
      evaluate(round: round)
    }
    StandardError.writeOut(
      "progress uid=\(uid) round=\(round)/\(plan.iterations) mixed=\(mixedWith.count) time=\(String(format: "%.4f", roundTime))"
        + (results.lastTestSummary.map { " \($0)" } ?? ""))
  }

  func evaluate(round: Int) {
    let tally = evaluator.test(model)
    results.recordTest(round, tally)
    if let validation = evaluator.validate(model) { results.recordValidation(round, validation) }
    log.info("round \(round): \(results.lastTestSummary ?? "")")
    results.flush(extra: finalExtras())
  }

  private func finalExtras() -> [String: ResultsRecorder.JSONValue] {
    var rejectedJSON: [String: ResultsRecorder.JSONValue] = [:]
    for (reason, count) in link.rejected { rejectedJSON[reason] = .int(count) }
    return [
      "uid": .int(uid),
      "parameter_count": .int(model.parameterCount),
      "rejected_frames": .object(rejectedJSON),
    ]
  }

  /// Says BYE, writes the results and the final weights, closes the sockets.
  func shutdown() {
    for p in peers.neighbours where peers.state(of: p) != .departed {
      link.sendControl(.bye, to: p, degree: 0)
    }
    results.flush(extra: finalExtras())
    if let path = plan.weightsPath {
      do { try ModelFile.save(model, to: path) } catch { log.error("could not save final weights: \(error)") }
    }
    log.info(
      "done: \(plan.iterations) rounds, sent \(link.ledger.totalSent.data) data + \(link.ledger.totalSent.metadata) metadata bytes, control \(link.controlBytesSent) bytes"
    )
    link.close()
  }
}
