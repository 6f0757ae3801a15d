import Foundation
import Learning
import XCTest

/// SwarmAvg with real processes: the staleness rule β and the minimum γ, asserted from each
/// node's own record of what it combined, with one node four times slower; and learning.
final class SwarmAvgClusterTests: XCTestCase {
  static let iterations = Int(ProcessInfo.processInfo.environment["PEERD_SWARM_ITERATIONS"] ?? "") ?? 100

  /// 16 nodes, MNIST, γ = 3 of 4 neighbours, β = 0, node 3 four times slower: no node ever
  /// combined a neighbour whose counter + β was below its own; a step combined fewer than γ (of
  /// the neighbours still live) only after waiting the whole sync_timeout, and was counted as
  /// unsynchronised. The nodes' final models average ≥ 87 %.
  func testNeverCombinesStaleNeighboursAndRespectsGamma() throws {
    let n = AlgorithmRuns.nodes
    let beta = 0.0
    let gamma = 3
    let syncTimeout = 0.2
    let h = try ClusterHarness(
      nodes: n, degree: 4,
      config: try AlgorithmRuns.mnist(
        "swarmavg", iterations: Self.iterations, testAfter: Self.iterations,
        node:
          "swarm_beta = \(beta)\nswarm_gamma = \(gamma)\nsync_timeout = \(syncTimeout)\nslow_nodes = 3:4.0\nstep_pause = 0.002\n"
      ))
    XCTAssertEqual(h.wait(try h.start(), timeout: 600), [Int32](repeating: 0, count: n), h.output(0))
    let records = try (0..<n).map { try h.record($0) }
    var combined = 0
    var unsynced = 0
    for r in records {
      XCTAssertEqual(r.outcome, "completed", "node \(r.uid)")
      XCTAssertEqual(r.roundsCompleted, Self.iterations, "node \(r.uid)")
      var short = 0
      for step in r.mixedWith.rounds {
        let mixed = r.mixedWith[step] ?? []
        let required = min(gamma, r.liveNeighbours[step]?.count ?? 0)
        if mixed.count < required {
          short += 1
          XCTAssertGreaterThanOrEqual(
            r.roundTime[step] ?? 0, syncTimeout, "node \(r.uid) step \(step): fewer than γ before sync_timeout")
        }
        guard !mixed.isEmpty else { continue }
        combined += 1
        let own = try XCTUnwrap(r.ownAge[step], "node \(r.uid) step \(step): no record of its own counter")
        let ages = try XCTUnwrap(r.mixedAges[step], "node \(r.uid) step \(step): no record of the counters")
        XCTAssertEqual(ages.count, mixed.count)
        for a in ages { XCTAssertGreaterThanOrEqual(a + beta, own, "node \(r.uid) step \(step): a stale neighbour") }
      }
      let counted = r.counters["swarm_unsynced_steps"] ?? 0
      XCTAssertGreaterThanOrEqual(counted, short, "node \(r.uid): a step short of γ was not counted")
      unsynced += counted
    }
    XCTAssertGreaterThan(combined, n * Self.iterations / 2, "most steps combined")
    let accuracy = AlgorithmRuns.meanFinalAccuracy(records)
    XCTAssertGreaterThanOrEqual(accuracy, 87, "mean final test accuracy \(accuracy) %")
    print("swarmavg: \(combined) combined steps, \(unsynced) unsynchronised, mean accuracy \(accuracy) %")
  }
}
