import Foundation
import Models
import Numerics
import Topology
import Transport
import XCTest

@testable import Learning

/// The Random Walk Model on the embedded network: the age rule, one send per iteration,
/// re-injection after a lost walker, and STOP ending the run for everyone.
final class EmbeddedRandomWalkTests: XCTestCase {
  /// A run whose models change only by averaging (a frozen optimizer), every parameter of node u
  /// starting at `start[u]`.
  func frozen(_ graph: Graph, start: [Float], _ extra: @escaping (inout NodePlan) -> Void) throws -> EmbeddedCluster {
    let c = try EmbeddedCluster(graph: graph) {
      $0.algorithm = "rwm"
      extra(&$0)
    }
    c.adjustParts = { plan, parts in
      parts.optimizer = FrozenOptimizer()
      for i in 0..<parts.model.parameterCount { parts.model.parameters[i] = start[plan.uid] }
    }
    return c
  }

  /// The hand-made example: the line 0 – 1 – 2, values 0, 3 and 9, every iteration 0.1 s.
  ///
  /// Iteration 1 (t = 0.1): each trains (age 1) and sends. 0 and 2 can only send to 1; node 1
  /// takes the first walker to arrive, node 0's: x₁ = (1·3 + 1·0)/2 = 1.5, age max(1, 1) = 1.
  /// Iteration 2 (t = 0.2): node 1 trains (age 2), sends, and takes node 2's walker, queued since
  /// iteration 1 with age 1: x₁ = (2·1.5 + 1·9)/3 = 4 and age max(2, 1) = 2 (equal weights would
  /// give 5.25). That completes its 2 iterations: it sends STOP and the others stop where they are
  /// (which of them got node 1's walkers depends on node 1's seeded choices; its own value does not).
  func testAgeWeightedAveragingOnAHandMadeThreeNodeWalk() throws {
    let line = Graph(nodeCount: 3, edges: [(0, 1), (1, 2)])
    let c = try frozen(line, start: [0, 3, 9]) {
      $0.iterations = 2
      $0.algorithmSettings.rwmTimeout = 5
    }
    c.startAll()
    let end = c.run()
    XCTAssertLessThan(end, 1, "STOP ended the run at once")
    let one = try XCTUnwrap(c.finish(1))
    XCTAssertNil(one.error)
    XCTAssertEqual(one.outcome, .completed)
    XCTAssertEqual(one.results.roundsCompleted, 2)
    XCTAssertEqual(one.results.mixedWith[1], [0])
    XCTAssertEqual(one.results.mixedWith[2], [2])
    XCTAssertEqual(one.results.ownAge[1], 1)
    XCTAssertEqual(one.results.mixedAges[1], [1])
    XCTAssertEqual(one.results.ownAge[2], 2)
    XCTAssertEqual(one.results.mixedAges[2], [1])
    for v in one.parameters { XCTAssertEqual(v, 4, accuracy: 1e-5) }
    // The others ended with the run (STOP), each at its own count: between them they completed
    // one iteration less than node 1's walker hops would allow them (one waited in iteration 1).
    var others = 0
    for uid in [0, 2] {
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertEqual(f.outcome, .completed, "node \(uid)")
      XCTAssertLessThanOrEqual(f.results.roundsCompleted, 2, "node \(uid)")
      others += f.results.roundsCompleted
    }
    XCTAssertTrue((1...3).contains(others), "\(others)")
    XCTAssertNil(one.results.counters["rwm_reinjections"])
  }

  /// Every node sends exactly one model per iteration it starts, to one neighbour, and the
  /// models keep walking until the first node reaches `iterations`.
  func testOneModelPerIterationToOneNeighbour() throws {
    var rng = Xoshiro256(seed: 3)
    let graph = try Graph.regular(nodes: 8, degree: 4, rng: &rng)
    let c = try EmbeddedCluster(graph: graph) {
      $0.algorithm = "rwm"
      $0.iterations = 30
    }
    c.startAll()
    c.run()
    let frames = c.network.frames.filter { $0.kind == MessageKind.model.rawValue }
    var reached: [Int] = []
    for uid in 0..<8 {
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertNil(f.error)
      XCTAssertEqual(f.outcome, .completed)
      let done = f.results.roundsCompleted
      reached.append(done)
      let sent = frames.filter { $0.from == uid }
      // One per completed iteration, plus the one of the iteration STOP interrupted.
      XCTAssertTrue(sent.count == done || sent.count == done + 1, "node \(uid): \(sent.count) sends, \(done) done")
      XCTAssertTrue(Set(sent.map(\.to)).isSubset(of: Set(graph.neighbours(of: uid))))
      for r in f.results.mixedWith.rounds { XCTAssertEqual(f.results.mixedWith[r]?.count, 1, "node \(uid) r \(r)") }
    }
    XCTAssertEqual(reached.max(), 30)
    XCTAssertGreaterThan(reached.min()!, 10, "every node kept advancing: \(reached)")
  }

  /// A dead node swallows the walkers sent to it before it is marked down; the survivors that
  /// starve re-inject after rwm_timeout (logged and counted), and the walk goes on to the end.
  func testLostWalkersAreReinjected() throws {
    let c = try EmbeddedCluster(graph: Graph.ring(nodes: 4)) {
      $0.algorithm = "rwm"
      $0.iterations = 60
      $0.peerTimeout = 2
      $0.algorithmSettings.rwmTimeout = 0.5
    }
    c.startAll()
    c.network.kill(2, at: 0.35)
    c.run()
    var reinjections = 0
    var reached: [Int] = []
    for uid in [0, 1, 3] {
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertNil(f.error)
      reinjections += f.results.counters["rwm_reinjections"] ?? 0
      reached.append(f.results.roundsCompleted)
      if f.results.counters["rwm_reinjections"] != nil {
        XCTAssertTrue(c.logs[uid]!.warnings.contains { $0.contains("training and sending anyway") })
      }
      // After the neighbours marked 2 down, walkers still went round and were mixed.
      let late = f.results.mixedWith.rounds.filter { (f.results.elapsedTime[$0] ?? 0) > 4 }
      XCTAssertTrue(late.contains { f.results.mixedWith[$0] != [] }, "node \(uid) mixed after the fault")
    }
    XCTAssertGreaterThan(reinjections, 0)
    XCTAssertEqual(reached.max(), 60)
  }
}
