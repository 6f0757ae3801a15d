import Foundation
import Models
import Numerics
import Topology
import Transport
import XCTest

@testable import Learning

/// SwarmAvg on the embedded network: the combination rule by hand, β (staleness) and γ (minimum
/// neighbours) from each node's own record of what it combined.
final class EmbeddedSwarmAvgTests: XCTestCase {
  func swarm(_ graph: Graph, _ extra: @escaping (inout NodePlan) -> Void) throws -> EmbeddedCluster {
    try EmbeddedCluster(graph: graph) {
      $0.algorithm = "swarmavg"
      extra(&$0)
    }
  }

  /// Two nodes, a frozen optimizer, values 0 and 4, α = 0.25, γ = 1. Step 1: both reach counter 1
  /// and combine: x₀ = 0.75·0 + 0.25·4 = 1, x₁ = 0.75·4 + 0.25·0 = 3, counters 0.75·1 + 0.25·1 = 1.
  /// Step 2: x₀ = 0.75·1 + 0.25·3 = 1.5, x₁ = 2.5. With α = 0, the plain mean: both 2.
  func testCombinationByHand() throws {
    for (alpha, expected) in [(0.25, [Float(1.5), 2.5]), (0, [2, 2])] {
      let c = try swarm(Graph(nodeCount: 2, edges: [(0, 1)])) {
        $0.iterations = 2
        $0.algorithmSettings.swarmAlpha = alpha
        $0.algorithmSettings.swarmGamma = 1
      }
      c.adjustParts = { plan, parts in
        parts.optimizer = FrozenOptimizer()
        for i in 0..<parts.model.parameterCount { parts.model.parameters[i] = plan.uid == 0 ? 0 : 4 }
      }
      c.startAll()
      c.run()
      for uid in 0..<2 {
        let f = try XCTUnwrap(c.finish(uid))
        XCTAssertNil(f.error)
        XCTAssertEqual(f.results.mixedWith[1], [1 - uid])
        XCTAssertEqual(f.results.mixedWith[2], [1 - uid])
        XCTAssertEqual(f.results.ownAge[2], 2)
        XCTAssertEqual(f.results.mixedAges[2], [2])
        for v in f.parameters { XCTAssertEqual(v, expected[uid], accuracy: 1e-6, "α \(alpha) node \(uid)") }
      }
    }
  }

  /// 8 nodes, 4-regular, node 3 four times slower. Whatever β, no node ever combines a neighbour
  /// whose counter + β is below its own, and every combination has at least γ neighbours; with
  /// β = 3 some combinations do use neighbours behind it (β matters).
  func testNeverCombinesANeighbourBeyondBeta() throws {
    var rng = Xoshiro256(seed: 3)
    let graph = try Graph.regular(nodes: 8, degree: 4, rng: &rng)
    for beta in [0.0, 3.0] {
      let c = try swarm(graph) {
        $0.iterations = 40
        $0.algorithmSettings.swarmBeta = beta
        $0.algorithmSettings.swarmGamma = 2
        $0.algorithmSettings.syncTimeout = 0.5
        if $0.uid == 3 { $0.slowdown = 4 }
      }
      c.startAll()
      c.run()
      var behind = 0
      for uid in 0..<8 {
        let f = try XCTUnwrap(c.finish(uid))
        XCTAssertNil(f.error)
        XCTAssertEqual(f.results.roundsCompleted, 40)
        for r in f.results.mixedWith.rounds {
          let mixed = f.results.mixedWith[r] ?? []
          guard !mixed.isEmpty else { continue }
          let own = try XCTUnwrap(f.results.ownAge[r])
          let ages = try XCTUnwrap(f.results.mixedAges[r])
          XCTAssertEqual(ages.count, mixed.count)
          if mixed.count < 2 {
            XCTAssertGreaterThanOrEqual(f.results.roundTime[r] ?? 0, 0.5, "node \(uid) step \(r): fewer than γ, early")
          }
          for a in ages { XCTAssertGreaterThanOrEqual(a + beta, own, "node \(uid) step \(r), β \(beta)") }
          behind += ages.filter { $0 < own }.count
        }
      }
      if beta > 0 { XCTAssertGreaterThan(behind, 0, "β = \(beta) never let a slower neighbour in") }
    }
  }

  /// γ = 4 on a 4-regular graph with a slow neighbour and a short sync_timeout: the slow node's
  /// neighbours cannot gather all four in time, so they go on unsynchronised (counted, logged):
  /// a step combines fewer than γ (of the neighbours still live) only after a full sync_timeout,
  /// and every such step is counted.
  func testGammaIsRespectedAndUnsyncedStepsAreCounted() throws {
    var rng = Xoshiro256(seed: 3)
    let graph = try Graph.regular(nodes: 8, degree: 4, rng: &rng)
    let c = try swarm(graph) {
      $0.iterations = 30
      $0.algorithmSettings.swarmGamma = 4
      $0.algorithmSettings.syncTimeout = 0.05
      if $0.uid == 3 { $0.slowdown = 4 }
    }
    c.startAll()
    c.run()
    var unsynced = 0
    for uid in 0..<8 {
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertNil(f.error)
      var short = 0
      for r in f.results.mixedWith.rounds {
        let n = f.results.mixedWith[r]?.count ?? 0
        // γ counts live neighbours only: one that finished and said BYE cannot be waited for.
        let required = min(4, f.results.liveNeighbours[r]?.count ?? 0)
        guard n < required else { continue }
        short += 1
        XCTAssertGreaterThanOrEqual(
          f.results.roundTime[r] ?? 0, 0.05, "node \(uid) step \(r): \(n) of \(required) early")
      }
      let counted = f.results.counters["swarm_unsynced_steps"] ?? 0
      XCTAssertGreaterThanOrEqual(counted, short, "node \(uid): a short combination not counted")
      unsynced += counted
      if counted > 0 { XCTAssertTrue(c.logs[uid]!.all.contains { $0.contains("going on unsynchronised") }) }
    }
    for uid in graph.neighbours(of: 3) {
      XCTAssertGreaterThan(c.finish(uid)?.results.counters["swarm_unsynced_steps"] ?? 0, 0, "neighbour \(uid)")
    }
    XCTAssertGreaterThan(unsynced, 0)
  }
}
