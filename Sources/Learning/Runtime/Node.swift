import Datasets
import Foundation
import Logging
import Models
import Numerics
import Sharing
import Transport

/// How a node's run ended; `exitCode` is what `peerd` exits with (docs/operations.md).
public enum NodeOutcome: Equatable, Sendable {
  /// Every round done (or STOP received: the run is over for everyone).
  case completed
  /// SIGTERM or SIGINT: the round was abandoned, results, weights and a checkpoint written.
  case stopped(signal: Int32)
  /// Averaged with nobody in more than `isolation_limit` of its rounds although it has
  /// neighbours: its results are those of a node that trained alone.
  case isolated(rounds: Int, of: Int)
  /// Gave up because what it depends on was gone (a FedAvg client whose server stayed down).
  case abandoned(String)

  public var exitCode: Int32 {
    switch self {
    case .completed: return 0
    case .stopped: return 3
    case .isolated: return 4
    case .abandoned: return 5
    }
  }

  var name: String {
    switch self {
    case .completed: return "completed"
    case .stopped: return "stopped"
    case .isolated: return "isolated"
    case .abandoned: return "abandoned"
    }
  }
}

/// One peerd process's state, and the one loop that drives it.
///
/// Single-threaded by design (DESIGN decision 2): the thread that calls `run()` owns the
/// transport, the model and every buffer. Every wait goes through `wait(for:…)`, a poll with a
/// deadline that also dispatches inbound frames (Node+Network.swift): control frames update the
/// peer table, admitted models go to the mailbox. The algorithm is a strategy called once per
/// round or step, and sees the node only as an `AlgorithmContext` (Node+Context.swift).
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
  public let events: EventLog
  public let mailbox: Mailbox
  public let clock: any Clock
  /// Differential privacy on what this node shares (Node+Defences.swift).
  public let privacy: DifferentialPrivacy?
  let attacker: Attacker?
  public internal(set) var log: Logger
  public internal(set) var peers: PeerTable

  /// The round (or step) this node is in; announced in every frame it sends.
  public internal(set) var currentRound = 0
  let startTime: Double
  var peerChoice: Xoshiro256
  var nextHeartbeat = 0.0
  var stopSignal: Int32?
  var stopReceived = false
  /// This round's model for peers whose queue was full when it was sent, retried while serving.
  var unsent: [Int: PeerLink.EncodedModel] = [:]
  /// What `send` sent this round, for re-sending to a peer that comes back mid-round: its frame
  /// (the same for every recipient unless the method's shares depend on the recipient) and the
  /// header fields, with which a recipient-specific share is made anew.
  var lastSent: (round: Int, frame: PeerLink.EncodedModel?, fields: PeerLink.ModelFields)?
  /// Why the algorithm gave up the run (`abandonRun`), if it did.
  var abandonedBecause: String?
  /// (peer, reason) pairs already logged at warning level: each is logged once, then counted.
  var warned: Set<String> = []
  /// BYEs received from peers this node deals with: each explains one closed connection.
  var byesReceived = 0
  /// Peers that said BYE having completed the run in the round this node was in, in lockstep
  /// rounds (D-PSGD, EL, FedAvg: the last round): if that round averaged with them, they were up
  /// through it, whenever their BYE happened to land. Not kept for a random walk or SwarmAvg,
  /// whose steps do not line up: there a neighbour that finished was gone for the steps after.
  var finishedPeers: [Int: Int] = [:]
  /// Whether a connection closed without a BYE has been logged.
  var warnedClose = false
  var phase = PhaseClock()
  /// The round this run resumed from (a checkpoint), if any.
  var resumedFrom: Int?
  /// When the results file was last written (node clock).
  var lastFlush = -Double.infinity
  /// The results file is rewritten at least this often (seconds), besides evaluations.
  static let flushInterval = 2.0
  /// Frames handled per `drain` (Node+Network.swift): a few milliseconds of decoding.
  static let drainLimit = 1000

  public init(
    plan: NodePlan, model: any Model, optimizer: any Optimizer, data: NodeShard, sharing: any SharingStrategy,
    transport: any MessageTransport, clock: any Clock, algorithm: any Algorithm, log: Logger
  ) {
    self.plan = plan
    self.model = model
    self.optimizer = optimizer
    self.sharing = sharing
    self.algorithm = algorithm
    self.clock = clock
    self.log = log
    let streams = RandomStreams(seed: plan.seed)
    trainer = LocalTrainer(
      data: data.train, batchSize: plan.batchSize, stepsPerRound: plan.localSteps, fullEpochs: plan.fullEpochs,
      shuffle: plan.shuffle, rng: streams.stream(.shuffle, index: UInt64(plan.uid)))
    trainer.stepPause = plan.stepPause
    trainer.slowdown = plan.slowdown
    evaluator = Evaluator(
      test: data.test, train: data.train, validation: data.validation, batchSize: plan.evaluationBatchSize)
    aggregator = Aggregator(parameterCount: model.parameterCount)
    // A FedAvg client takes the server's model as it is: the rule is the server's.
    if plan.aggregation != .mean && plan.role != .client {
      aggregator.robust = RobustAggregation(rule: plan.aggregation, parameterCount: model.parameterCount)
    }
    privacy = plan.privacy.map {
      DifferentialPrivacy($0, seed: plan.seed, uid: plan.uid, initialModel: model.parameters)
    }
    attacker = plan.attack.map {
      Attacker($0, parameterCount: model.parameterCount, seed: plan.seed, uid: plan.uid)
    }
    link = PeerLink(uid: plan.uid, transport: transport, parameterCount: model.parameterCount)
    peerChoice = streams.stream(.peerChoice, index: UInt64(plan.uid))
    startTime = clock.now()
    peers = PeerTable(
      neighbours: plan.neighbours, heartbeatPeers: plan.heartbeatPeers, peerTimeout: plan.peerTimeout,
      startTimeout: plan.startTimeout, now: startTime)
    // Buffer at most: every sender of interest, a few rounds ahead, at the largest frame size.
    // A server hears from all its clients, an Epidemic Learning node from any node.
    let everyone = plan.role == .server || algorithm.policy.peers == .everyone
    let senders = max(4, everyone ? plan.peerCount : plan.neighbours.count + 1)
    let maxFrame = WireHeader.size + 8 * model.parameterCount + 16
    mailbox = Mailbox(mode: algorithm.policy.mailbox, byteLimit: senders * 4 * maxFrame)
    var record = NodeResults()
    record.uid = plan.uid
    record.algorithm = plan.algorithm
    record.role = plan.role.rawValue
    record.sharing = sharing.name
    record.parameterCount = model.parameterCount
    record.aggregation = aggregator.robust?.rule.description ?? "mean"
    record.attack = plan.attack?.description
    results = ResultsRecorder(
      path: plan.resultsPath, isRegression: model.lossKind == .meanSquaredError, results: record)
    events = EventLog(path: plan.eventsPath)
  }

  public var now: Double { clock.now() }
  var elapsed: Double { clock.now() - startTime }

  public var isStopping: Bool { stopSignal != nil || stopReceived }

  // MARK: - The loop

  /// Runs the node from its start to the end of the run.
  public func run() throws -> NodeOutcome {
    log.info(
      "node \(uid) up (\(plan.role.rawValue), \(plan.algorithm)): \(model.name) with \(model.parameterCount) parameters, \(trainer.sampleCount) training samples, neighbours \(peers.neighbours)"
    )
    var start = NodeEvent(kind: .start, uid: uid, time: elapsed, round: currentRound)
    start.resumedFrom = resumedFrom
    events.append(start)
    announceDefences()
    try startPhase()
    results.update { $0.startupTime = elapsed }
    // Round 0 belongs to the curves the run draws: none without test or train-loss evaluations.
    if plan.evaluateBeforeTraining && resumedFrom == nil && plan.role != .client
      && (plan.testAfter > 0 || plan.trainEvaluateAfter > 0)
    {
      try evaluateAtStart()
    }
    while !isStopping {
      guard try algorithm.step(self) else { break }
    }
    if stopReceived { try evaluateFinalModel() }
    // A step also returns false when it gave up on a stop request: only the last round (or a
    // STOP from the peer that ended the run) counts as finishing.
    let finished = stopReceived || stopSignal == nil || currentRound >= plan.iterations
    return shutdown(finished: finished)
  }

  /// Says HELLO to every heartbeat peer and serves the network until each has been heard from
  /// (or has gone silent after being heard, or `start_timeout` passes); the rounds they announce
  /// tell a restarted node which round to join.
  func startPhase() throws {
    let targets = peers.heartbeatPeers
    guard !targets.isEmpty else { return }
    let deadline = startTime + plan.startTimeout
    var nextHello = now
    var helloInterval = 0.25
    while targets.contains(where: { peers.state(of: $0) == .unknown }) && !isStopping {
      let t = now
      if t >= deadline { break }
      if t >= nextHello {
        for p in targets where peers.state(of: p) == .unknown { sayHello(to: p, probe: false) }
        // Backing off keeps a peer that is slow to start from finding its queue full of HELLOs.
        nextHello = t + helloInterval
        helloInterval = min(2, helloInterval * 2)
      }
      // A peer heard once and then silent died during the start: do not wait for it.
      for p in targets where peers.state(of: p) == .up && peers.isOverdue(p, now: t, awaitedSince: startTime) {
        markDown(p, reason: "silent for \(String(format: "%.1f", peers.silence(of: p, now: t))) s during the start")
      }
      // Everything already queued is read before deciding: a restarted node first receives what
      // was queued for it while it was dead, and only the newest frames say where peers are.
      if try !pump(timeout: min(0.05, max(0.001, min(deadline, nextHello) - t))) { continue }
      try drain()
      service()
    }
    let missing = targets.filter { peers.state(of: $0) == .unknown }
    if !missing.isEmpty {
      log.warning("start: no answer from \(missing) within \(plan.startTimeout) s; starting without them")
      for p in missing { markDown(p, reason: "no answer within start_timeout") }
    }
    let up = targets.filter { peers.state(of: $0) == .up }
    log.info("start: \(up.count)/\(targets.count) peers up; neighbourhood at round \(neighbourhoodRound())")
  }

  /// Says BYE, writes the results, the final weights and (when stopped) a checkpoint, closes the
  /// transport.
  func shutdown(finished: Bool) -> NodeOutcome {
    var outcome = NodeOutcome.completed
    if let signal = stopSignal, !finished {
      outcome = .stopped(signal: signal)
    } else if let why = abandonedBecause {
      outcome = .abandoned(why)
    } else if !peers.neighbours.isEmpty && plan.role == .peer {
      let done = results.results.roundsCompleted
      let alone = results.results.isolatedRounds
      if done > 0 && Double(alone) > plan.isolationLimit * Double(done) { outcome = .isolated(rounds: alone, of: done) }
    }
    for p in peers.tracked where peers.state(of: p) != .departed {
      link.sendControl(.bye, to: p, round: currentRound, degree: 0)
    }
    if case .stopped = outcome { writeCheckpoint(reason: "stop") }
    let rejected = rejectedFrames()
    results.update {
      $0.outcome = outcome.name
      $0.rejectedFrames = rejected
    }
    if let attacker { log.warning("ATTACKER (test only): this node sent \(attacker.attack) all run") }
    flushResults()
    var end = NodeEvent(kind: .end, uid: uid, time: elapsed, round: currentRound)
    end.outcome = outcome.name
    events.append(end)
    if let path = plan.weightsPath {
      do { try ModelFile.save(model, to: path) } catch { log.error("could not save final weights: \(error)") }
    }
    switch outcome {
    case .completed: break
    case .stopped(let signal): log.warning("stopped by signal \(signal) in round \(currentRound)")
    case .abandoned(let why): log.error("gave up the run in round \(currentRound): \(why)")
    case .isolated(let alone, let done):
      log.error(
        "averaged with nobody in \(alone) of \(done) rounds (more than isolation_limit \(plan.isolationLimit)): this node trained alone"
      )
    }
    let sent = link.ledger.totalSent
    log.info(
      "done (\(outcome.name)): \(results.results.roundsCompleted) rounds, sent \(sent.data) data + \(sent.metadata) metadata bytes, control \(link.controlBytesSent) bytes"
    )
    link.close()
    return outcome
  }

  func flushResults() {
    lastFlush = now
    let rejected = rejectedFrames()
    let closed = link.transport.connectionsClosed
    results.update {
      $0.rejectedFrames = rejected
      $0.connectionsClosed = closed
    }
    recordPrivacy()
    if let problem = results.flush() { log.error("\(problem)") }
  }
}

/// Wall time per phase of the current round, on the node's clock.
struct PhaseClock {
  enum Phase { case train, communicate, average, evaluate }
  var train = 0.0
  var communicate = 0.0
  var average = 0.0
  var evaluate = 0.0
  var roundStart = 0.0

  mutating func reset(at time: Double) {
    train = 0
    communicate = 0
    average = 0
    evaluate = 0
    roundStart = time
  }

  mutating func add(_ phase: Phase, _ seconds: Double) {
    switch phase {
    case .train: train += seconds
    case .communicate: communicate += seconds
    case .average: average += seconds
    case .evaluate: evaluate += seconds
    }
  }
}
