import Foundation
import Numerics
import Topology
import Transport
import XCTest

@testable import Learning

/// FedAvg on the embedded network: a server (uid n) and n clients; the sample-weighted mean,
/// sampling determinism, and a missing client never stalling the server.
final class EmbeddedFedAvgTests: XCTestCase {
  func fedavg(clients: Int, _ extra: @escaping (inout NodePlan) -> Void) throws -> EmbeddedCluster {
    // The graph only says how many clients there are: FedAvg ignores its edges.
    try EmbeddedCluster(graph: Graph.ring(nodes: clients)) {
      $0.algorithm = "fedavg"
      extra(&$0)
    }
  }

  /// One round with every client and unequal shards (10 %, 20 %, 30 %, 40 % of the data): the
  /// global model is Σ nₖ·xₖ / Σ nₖ over the models the clients returned, not their plain mean.
  func testGlobalModelIsTheSampleWeightedMeanOfReturnedModels() throws {
    let c = try fedavg(clients: 4) {
      $0.iterations = 1
      $0.dataset.partition = .sizes([0.1, 0.2, 0.3, 0.4])
      $0.localSteps = 20
    }
    XCTAssertEqual(c.uids, [0, 1, 2, 3, 4])
    c.startAll()
    c.run()
    let server = try XCTUnwrap(c.finish(4))
    XCTAssertNil(server.error)
    XCTAssertEqual(server.outcome, .completed)
    XCTAssertEqual(server.results.mixedWith[1], [0, 1, 2, 3])
    XCTAssertNotNil(server.results.testAcc[1], "the server evaluates the global model")
    let clients = try (0..<4).map { try XCTUnwrap(c.finish($0)) }
    let counts = clients.map { Double($0.sampleCount) }
    XCTAssertEqual(counts, [80, 160, 240, 320])
    let total = counts.reduce(0, +)
    var plainDiffers = false
    for i in 0..<server.parameters.count {
      let weighted = (0..<4).map { counts[$0] * Double(clients[$0].parameters[i]) }.reduce(0, +) / total
      let plain = clients.map { Double($0.parameters[i]) }.reduce(0, +) / 4
      XCTAssertEqual(Double(server.parameters[i]), weighted, accuracy: 1e-5 * max(1, abs(weighted)), "parameter \(i)")
      if abs(plain - weighted) > 1e-3 { plainDiffers = true }
    }
    XCTAssertTrue(plainDiffers, "the shards were too alike to tell weighted from plain")
    // Clients train and return; they evaluate nothing and take models only from the server.
    for f in clients {
      XCTAssertEqual(f.results.mixedWith[1], [4])
      XCTAssertTrue(f.results.testAcc.isEmpty)
    }
  }

  /// The server samples ⌈0.5 × 6⌉ = 3 clients a round with its seeded peer-choice stream: the
  /// sequence is the stream's, and the same seed gives the same rounds, models and results.
  func testSamplingIsTheSeededStreamAndDeterministic() throws {
    func run() throws -> (results: NodeResults, parameters: [UInt32]) {
      let c = try fedavg(clients: 6) {
        $0.iterations = 8
        $0.algorithmSettings.clientFraction = 0.5
      }
      c.startAll()
      c.run()
      let s = try XCTUnwrap(c.finish(6))
      XCTAssertNil(s.error)
      return (s.results, s.parameters.map(\.bitPattern))
    }
    let a = try run()
    var rng = RandomStreams(seed: 7).stream(.peerChoice, index: 6)
    for r in 1...8 {
      XCTAssertEqual(a.results.mixedWith[r], rng.sample(3, from: 6).sorted(), "round \(r)")
    }
    let b = try run()
    XCTAssertEqual(a.parameters, b.parameters)
    XCTAssertEqual(a.results, b.results)
  }

  /// A client killed mid-run is left out of the round it was sampled in (counted, logged), is
  /// marked down after peer_timeout, and is not sampled again: the server never stalls on it.
  func testKilledClientDoesNotStallTheServer() throws {
    let c = try fedavg(clients: 6) {
      $0.iterations = 40
      $0.peerTimeout = 1
      $0.algorithmSettings.roundDeadline = 10
    }
    c.startAll()
    c.network.kill(2, at: 0.55)
    let end = c.run()
    let s = try XCTUnwrap(c.finish(6))
    XCTAssertNil(s.error)
    XCTAssertEqual(s.results.roundsCompleted, 40)
    XCTAssertEqual(s.results.counters["fedavg_clients_left_out"], 1)
    XCTAssertTrue(c.logs[6]!.warnings.contains { $0.contains("left out") })
    let down = try XCTUnwrap(s.results.peerEvents.first { $0.kind == .down && $0.peer == 2 })
    for r in s.results.mixedWith.rounds where r > down.round {
      XCTAssertEqual(s.results.mixedWith[r], [0, 1, 3, 4, 5], "round \(r)")
    }
    // 40 rounds of about 0.1 s, plus one peer_timeout of waiting for the dead client.
    XCTAssertLessThan(end, 40 * 0.15 + 1 + 1)
  }

  /// A client that is alive but far too slow is cut off by round_deadline every time it is
  /// sampled: it is left out, and its late model is dropped as stale.
  func testRoundDeadlineLeavesASlowClientOut() throws {
    let c = try fedavg(clients: 4) {
      $0.iterations = 10
      $0.algorithmSettings.roundDeadline = 0.3
      if $0.uid == 1 { $0.slowdown = 20 }
    }
    c.startAll()
    let end = c.run()
    let s = try XCTUnwrap(c.finish(4))
    XCTAssertNil(s.error)
    XCTAssertEqual(s.results.roundsCompleted, 10)
    XCTAssertEqual(s.results.counters["fedavg_clients_left_out"], 10)
    for r in 1...10 { XCTAssertEqual(s.results.mixedWith[r], [0, 2, 3], "round \(r)") }
    XCTAssertEqual(s.results.peerEvents.filter { $0.kind == .down }, [], "a slow client is alive")
    XCTAssertLessThan(end, 10 * 0.3 + 3)
  }
}
