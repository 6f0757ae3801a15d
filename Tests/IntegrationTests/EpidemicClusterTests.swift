import Foundation
import Learning
import Numerics
import XCTest

/// Epidemic Learning with real processes: each round to s distinct nodes of the whole network
/// (non-neighbours included, connections opened on demand), following the seeded schedule every
/// receiver recomputes; and learning.
final class EpidemicClusterTests: XCTestCase {
  static let iterations = Int(ProcessInfo.processInfo.environment["PEERD_EL_ROUNDS"] ?? "") ?? 100

  func testSendsToSDistinctNodesIncludingNonNeighboursAndLearns() throws {
    let n = AlgorithmRuns.nodes
    let rounds = Self.iterations
    let s = 4
    let h = try ClusterHarness(
      nodes: n, degree: 4,
      config: try AlgorithmRuns.mnist("epidemic", iterations: rounds, testAfter: rounds, node: "el_fanout = \(s)\n"))
    XCTAssertEqual(h.wait(try h.start(), timeout: 600), [Int32](repeating: 0, count: n), h.output(0))
    let neighbours = try AlgorithmRuns.neighbours(h)
    // The schedule, as every node computes it: seed 90 (the config's random_seed).
    let schedule = PeerSchedule(seed: 90)
    func targets(_ u: Int, _ r: Int) -> [Int] { schedule.draw(s, from: (0..<n).filter { $0 != u }, node: u, round: r) }
    let records = try (0..<n).map { try h.record($0) }
    var nonNeighbours = 0
    for r in records {
      let u = r.uid
      XCTAssertEqual(r.outcome, "completed", "node \(u)")
      XCTAssertEqual(r.roundsCompleted, rounds)
      var expected: [Int: Int] = [:]
      for round in 1...rounds {
        let t = targets(u, round)
        XCTAssertEqual(Set(t).count, s)
        for v in t { expected[v, default: 0] += 1 }
        let senders = (0..<n).filter { $0 != u && targets($0, round).contains(u) }
        XCTAssertEqual(r.mixedWith[round], senders, "node \(u) round \(round)")
      }
      // Exactly the schedule's sends: s distinct targets a round, nothing else.
      for v in 0..<n where v != u {
        XCTAssertEqual(r.neighbourBytes[String(v)]?.sentMessages ?? 0, expected[v] ?? 0, "node \(u) → \(v)")
      }
      XCTAssertEqual(AlgorithmRuns.messagesSent(r), s * rounds)
      nonNeighbours += expected.filter { !(neighbours[u]?.contains($0.key) ?? false) }.values.reduce(0, +)
    }
    XCTAssertGreaterThan(nonNeighbours, n * rounds, "most targets are not graph neighbours")
    let accuracy = AlgorithmRuns.meanFinalAccuracy(records)
    XCTAssertGreaterThanOrEqual(accuracy, 87, "mean final test accuracy \(accuracy) %")
    print("epidemic: mean final accuracy \(accuracy) % after \(rounds) rounds")
  }
}
