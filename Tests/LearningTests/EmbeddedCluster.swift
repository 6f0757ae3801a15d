import Datasets
import Foundation
import Logging
import Models
import Numerics
import Sharing
import Topology
import Transport
import XCTest

@testable import Learning

/// Real nodes (the real runtime, algorithm, model and data) on an `EmbeddedNetwork`: one
/// process, a virtual clock, no sockets and no sleeps, and the same interleaving every run.
final class EmbeddedCluster: @unchecked Sendable {
  /// What one incarnation of a node left behind.
  struct Finish {
    var outcome: NodeOutcome?
    var error: String?
    var results: NodeResults
    var parameters: [Float]
    var accuracy: Double
    var rejected: [String: Int]
    var mailboxBytes: Int
    var mailboxLimit: Int
    /// The node's sharing method as it ended (its accumulators, CHOCO copies).
    var sharing: (any SharingStrategy)?
    /// Training samples of the node's shard.
    var sampleCount = 0
  }

  let network: EmbeddedNetwork
  let graph: Graph
  let dir: String
  private let lock = NSLock()
  private var finishes: [Int: [Finish]] = [:]
  var configure: (inout NodePlan) -> Void
  /// Changes a node's parts before it is built (a test algorithm or sharing method).
  var adjustParts: ((NodePlan, inout NodeFactory.Parts) -> Void)?
  /// A log handler per node (default: silent).
  var logs: [Int: EmbeddedLog] = [:]
  /// Frames for which this returns true (sender, recipient, header) are lost on the way, as if
  /// the network had dropped them after the sender queued them.
  var loses: ((Int, Int, WireHeader) -> Bool)?
  /// Frames for which this returns true cannot be queued (the send fails, as to a peer whose
  /// queue is full).
  var refuses: ((Int, Int, WireHeader) -> Bool)?

  init(graph: Graph, latency: Double = 0.001, configure: @escaping (inout NodePlan) -> Void = { _ in }) throws {
    network = EmbeddedNetwork(latency: latency)
    self.graph = graph
    self.configure = configure
    dir = NSTemporaryDirectory() + "peerd-embedded-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: dir) }

  /// The plan of node `uid`: Synthetic data, logistic regression, D-PSGD, 5 local steps a round
  /// taking 0.1 s of virtual time, 3 s peer timeout.
  func plan(_ uid: Int) -> NodePlan {
    var dataset = DatasetSettings(name: "Synthetic", seed: 7)
    dataset.synthetic.samplesPerNode = 200
    dataset.synthetic.testSamples = 500
    var p = NodePlan(
      uid: uid, totalNodes: graph.nodeCount, neighbours: uid < graph.nodeCount ? graph.neighbours(of: uid) : [],
      bindEndpoint: "", endpoints: [:],
      seed: 7, dataset: dataset, model: ModelSettings(name: "LogisticRegression"),
      optimizer: OptimizerSettings(learningRate: 0.1), sharing: SharingSettings(name: "Sharing"), iterations: 20,
      localSteps: 5, batchSize: 16, testAfter: 10, trainEvaluateAfter: 0, peerTimeout: 3, startTimeout: 10)
    p.placeFiles(in: dir)
    // 5 steps of 20 ms: a round takes 0.1 s of virtual time.
    p.stepPause = 0.02
    configure(&p)
    // Roles, heartbeat peers and the server, as NodePlan.resolve lays them out for the algorithm.
    try! p.layOut(in: graph)
    return p
  }

  /// Every process of the run: the graph's nodes, and FedAvg's server (uid n) when there is one.
  var uids: [Int] {
    var p = plan(0)
    return (try? p.layOut(in: graph)) == .serverAndClients ? Array(0...graph.nodeCount) : Array(0..<graph.nodeCount)
  }

  /// Starts node `uid` at virtual time `at`; with `resume`, from its checkpoint.
  func start(_ uid: Int, at time: Double = 0, resume: Bool = false) {
    let p = plan(uid)
    let log = EmbeddedLog()
    logs[uid] = log
    network.spawn(uid, at: time) { [self] transport in
      var finish = Finish(
        outcome: nil, error: nil, results: NodeResults(), parameters: [], accuracy: 0, rejected: [:], mailboxBytes: 0,
        mailboxLimit: 0, sharing: nil)
      do {
        var parts = try NodeFactory.prepare(p)
        adjustParts?(p, &parts)
        if !resume { _ = try NodeRunner.archiveEarlierAttempt(p) }
        let faulty = loses != nil || refuses != nil
        let link: any MessageTransport =
          faulty ? LossyTransport(transport, loses: loses ?? { _, _, _ in false }, refuses: refuses) : transport
        let node = NodeFactory.makeNode(
          p, parts: parts, transport: link, clock: transport, log: Logger(label: "node \(uid)") { _ in log })
        if resume { try node.resume() }
        do {
          finish.outcome = try node.run()
        } catch {
          finish.error = "\(error)"
        }
        finish.results = node.results.results
        finish.parameters = node.model.parameters.array
        finish.accuracy = node.evaluator.test(node.model).accuracy
        finish.rejected = node.link.allRejected
        finish.mailboxBytes = node.mailbox.bytes
        finish.mailboxLimit = node.mailbox.byteLimit
        finish.sharing = node.sharing
        finish.sampleCount = node.trainer.sampleCount
      } catch {
        finish.error = "setup: \(error)"
      }
      lock.lock()
      finishes[uid, default: []].append(finish)
      lock.unlock()
    }
  }

  func startAll() { for uid in uids { start(uid) } }

  /// The parameter count of the model every node trains.
  func parameterCount() throws -> Int { try NodeFactory.prepare(plan(0)).model.parameterCount }

  @discardableResult
  func run(until limit: Double = 100_000) -> Double { network.run(until: limit) }

  /// The last incarnation's finish of `uid`.
  func finish(_ uid: Int) -> Finish? {
    lock.lock()
    defer { lock.unlock() }
    return finishes[uid]?.last
  }

  func finishes(_ uid: Int) -> [Finish] {
    lock.lock()
    defer { lock.unlock() }
    return finishes[uid] ?? []
  }
}

/// Collects a node's log lines in memory (for asserting what was logged).
final class EmbeddedLog: LogHandler, @unchecked Sendable {
  private let lock = NSLock()
  private var stored: [(Logger.Level, String)] = []
  var logLevel: Logger.Level = .info
  var metadata: Logger.Metadata = [:]

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    lock.lock()
    stored.append((event.level, "\(event.message)"))
    lock.unlock()
  }

  var all: [String] {
    lock.lock()
    defer { lock.unlock() }
    return stored.map { "\($0.0) \($0.1)" }
  }

  var warnings: [String] {
    lock.lock()
    defer { lock.unlock() }
    return stored.filter { $0.0 >= .warning }.map(\.1)
  }
}

/// A node's transport that loses the frames `loses` picks (after the sender queued them: the
/// send reports success, as a real network losing a frame would) and fails to queue those
/// `refuses` picks.
final class LossyTransport: MessageTransport {
  let inner: any MessageTransport
  let loses: (Int, Int, WireHeader) -> Bool
  let refuses: ((Int, Int, WireHeader) -> Bool)?

  init(
    _ inner: any MessageTransport, loses: @escaping (Int, Int, WireHeader) -> Bool,
    refuses: ((Int, Int, WireHeader) -> Bool)? = nil
  ) {
    self.inner = inner
    self.loses = loses
    self.refuses = refuses
  }

  var localUID: Int { inner.localUID }
  var drops: [String: Int] { inner.drops }

  func send(_ frame: SharedBytes, to uid: Int) -> Bool {
    if let header = try? WireCodec.decodeHeader(frame.bytes) {
      if refuses?(localUID, uid, header) == true { return false }
      if loses(localUID, uid, header) { return true }
    }
    return inner.send(frame, to: uid)
  }

  func receive(timeout: Double) throws(TransportError) -> InboundMessage? { try inner.receive(timeout: timeout) }
  func disconnect(_ uid: Int) { inner.disconnect(uid) }
  func close() { inner.close() }
}

/// An optimizer that never changes the model: with it, models change only by averaging, so a
/// test can follow every value by hand.
final class FrozenOptimizer: Optimizer {
  func step(_ model: any Model) {}
  func reset() {}
  func exportState() -> OptimizerState { OptimizerState() }
  func importState(_ state: OptimizerState, parameterCount: Int) throws {}
}
