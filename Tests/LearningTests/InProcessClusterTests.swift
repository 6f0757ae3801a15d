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

/// Several nodes in one process over `InProcessNetwork`, one thread each: the node loop,
/// D-PSGD and liveness without sockets.
final class InProcessClusterTests: XCTestCase {
  final class Outcome: @unchecked Sendable {
    let lock = NSLock()
    var parameters: [Int: [Float]] = [:]
    var accuracy: [Int: Double] = [:]
    var errors: [String] = []
    var rejected: [Int: Int] = [:]
  }

  func plan(uid: Int, graph: Graph, iterations: Int, dir: String, peerTimeout: Double = 20) -> NodePlan {
    var dataset = DatasetSettings(name: "Synthetic", seed: 7)
    dataset.synthetic.samplesPerNode = 200
    dataset.synthetic.testSamples = 500
    return NodePlan(
      uid: uid, totalNodes: graph.nodeCount, neighbours: graph.neighbours(of: uid), bindEndpoint: "", endpoints: [:],
      seed: 7, dataset: dataset, model: ModelSettings(name: "LogisticRegression"),
      optimizer: OptimizerSettings(learningRate: 0.1), sharing: SharingSettings(name: "Sharing"),
      iterations: iterations, localSteps: 5, batchSize: 16, testAfter: iterations, trainEvaluateAfter: iterations,
      peerTimeout: peerTimeout, startTimeout: 10, resultsPath: dir + "/\(uid)_results.json")
  }

  /// Runs `graph.nodeCount` nodes to completion; `kill` (uid, after seconds) crashes one.
  func runCluster(
    graph: Graph, iterations: Int, peerTimeout: Double = 20, kill: (Int, Double)? = nil,
    inject: (([UInt8]) -> [UInt8])? = nil
  ) throws -> (Outcome, String) {
    let dir = NSTemporaryDirectory() + "peerd-inproc-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    // The nodes are threads of this process: BLAS must serialise (see BLAS.serializesCalls).
    BLAS.serializesCalls = true
    let network = InProcessNetwork()
    let outcome = Outcome()
    let group = DispatchGroup()
    for uid in 0..<graph.nodeCount {
      let p = plan(uid: uid, graph: graph, iterations: iterations, dir: dir, peerTimeout: peerTimeout)
      _ = network.transport(uid: uid)  // open every mailbox before any node sends
      group.enter()
      let thread = Thread {
        defer { group.leave() }
        let transport = network.transport(uid: uid)
        do {
          let parts = try NodeFactory.prepare(p)
          let node = NodeFactory.makeNode(
            p, parts: parts, transport: transport, log: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
          try node.run()
          let tally = node.evaluator.test(node.model)
          outcome.lock.lock()
          outcome.parameters[uid] = node.model.parameters.array
          outcome.accuracy[uid] = tally.accuracy
          outcome.rejected[uid] = node.link.rejected.values.reduce(0, +)
          outcome.lock.unlock()
        } catch {
          outcome.lock.lock()
          outcome.errors.append("node \(uid): \(error)")
          outcome.lock.unlock()
        }
      }
      thread.start()
    }
    if let inject {
      // A malformed frame and a frame from a stranger arrive at node 0 while it runs.
      network.inject(inject([]), from: 1, to: 0)
      network.inject(Array(repeating: 0xAB, count: 100), from: 1, to: 0)
    }
    if let (victim, after) = kill {
      Thread.sleep(forTimeInterval: after)
      network.kill(victim)
    }
    XCTAssertEqual(group.wait(timeout: .now() + 120), .success, "cluster hung")
    return (outcome, dir)
  }

  func testDPSGDConvergesAndNodesAgree() throws {
    var rng = Xoshiro256(seed: 1)
    let graph = try Graph.regular(nodes: 6, degree: 2, rng: &rng)
    let (outcome, _) = try runCluster(graph: graph, iterations: 30)
    XCTAssertEqual(outcome.errors, [])
    XCTAssertEqual(outcome.parameters.count, 6)
    for (_, acc) in outcome.accuracy { XCTAssertGreaterThan(acc, 0.7) }
    // Gossip averaging pulls the models together: nodes end close to their mean.
    let models = (0..<6).map { outcome.parameters[$0]! }
    let mean = (0..<models[0].count).map { i in models.map { $0[i] }.reduce(0, +) / 6 }
    let spread = models.map { m in zip(m, mean).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }.max()!
    let norm = mean.map { $0 * $0 }.reduce(0, +)
    XCTAssertLessThan(spread, 0.01 * norm)
  }

  func testSameSeedGivesBitIdenticalModelsAndResults() throws {
    let graph = Graph.ring(nodes: 4)
    let (a, dirA) = try runCluster(graph: graph, iterations: 8)
    let (b, dirB) = try runCluster(graph: graph, iterations: 8)
    XCTAssertEqual(a.errors + b.errors, [])
    for uid in 0..<4 {
      XCTAssertEqual(a.parameters[uid]!.map(\.bitPattern), b.parameters[uid]!.map(\.bitPattern), "node \(uid)")
      let ra = try resultsWithoutTimings(dirA + "/\(uid)_results.json")
      let rb = try resultsWithoutTimings(dirB + "/\(uid)_results.json")
      XCTAssertEqual(ra, rb)
    }
  }

  func resultsWithoutTimings(_ path: String) throws -> NSDictionary {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    var object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    for key in ["elapsed_time", "round_time", "startup_time"] { object[key] = nil }
    XCTAssertNotNil(object["test_acc"])
    return object as NSDictionary
  }

  func testDeadNeighbourDoesNotHangTheRun() throws {
    let graph = Graph.fullyConnected(nodes: 4)
    let start = MonotonicClock.now()
    let (outcome, _) = try runCluster(graph: graph, iterations: 400, peerTimeout: 1, kill: (3, 0.5))
    XCTAssertLessThan(MonotonicClock.now() - start, 100)
    // The survivors finish all rounds; the killed node may finish or fail, but nobody hangs.
    for uid in 0..<3 { XCTAssertNotNil(outcome.parameters[uid], "node \(uid) did not finish: \(outcome.errors)") }
  }

  func testMalformedFramesAreDroppedAndCounted() throws {
    let graph = Graph.ring(nodes: 3)
    let (outcome, _) = try runCluster(graph: graph, iterations: 5) { _ in
      var h = WireHeader(kind: .model, sender: 1)
      h.encoding = .rawFloat32
      h.parameterCount = 3
      h.elementCount = 3
      return WireCodec.encode(header: h, payload: [UInt8](repeating: 0, count: 12))  // wrong model size
    }
    XCTAssertEqual(outcome.errors, [])
    XCTAssertEqual(outcome.rejected[0], 2)
    XCTAssertEqual(outcome.parameters.count, 3)
  }
}
