import Foundation
import Numerics
import Sharing
import Topology
import XCTest

@testable import Learning

/// Robust aggregation against the test-only attackers, on the embedded network: with two
/// attackers among ten nodes (4-regular), D-PSGD's mean collapses and the robust rules keep the
/// honest nodes' accuracy near the clean run's.
///
/// The attackers share no neighbour, so every honest node has at most one attacker among its
/// four neighbours: what trimmed_mean (⌊0.25 · 4⌋ = 1 value trimmed at each end) and krum with
/// f = 1 are built to tolerate. The median of five values tolerates two.
final class EmbeddedRobustTests: XCTestCase {
  static let nodes = 10
  static let graph: Graph = {
    var rng = Xoshiro256(seed: 11)
    return try! Graph.regular(nodes: nodes, degree: 4, rng: &rng)
  }()
  /// The first pair of nodes with no common neighbour.
  static let attackers: [Int] = {
    for a in 0..<nodes {
      for b in (a + 1)..<nodes where Set(graph.neighbours(of: a)).isDisjoint(with: graph.neighbours(of: b)) {
        return [a, b]
      }
    }
    preconditionFailure("every pair shares a neighbour")
  }()

  /// Mean test accuracy of the honest nodes after a run.
  func honestAccuracy(rule: AggregationRule, attack: Attack?, rounds: Int = 20) throws -> Double {
    let c = try EmbeddedCluster(graph: Self.graph) { plan in
      plan.iterations = rounds
      plan.aggregation = rule
      if let attack, Self.attackers.contains(plan.uid) { plan.attack = attack }
    }
    c.startAll()
    c.run()
    var total = 0.0
    let honest = (0..<Self.nodes).filter { !Self.attackers.contains($0) }
    for uid in honest {
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertNil(f.error)
      XCTAssertEqual(f.outcome, .completed, "node \(uid)")
      total += f.accuracy
    }
    if let attack {
      for uid in Self.attackers { XCTAssertEqual(c.finish(uid)?.results.attack, attack.description) }
      XCTAssertTrue(c.logs[Self.attackers[0]]!.warnings.contains { $0.contains("ATTACKER (test only)") })
    }
    return total / Double(honest.count)
  }

  func testRobustRulesKeepAccuracyWhereTheMeanCollapses() throws {
    let clean = try honestAccuracy(rule: .mean, attack: nil)
    XCTAssertGreaterThan(clean, 0.7)
    for attack in [Attack(kind: .signFlip), Attack(kind: .scaled), Attack(kind: .random)] {
      let mean = try honestAccuracy(rule: .mean, attack: attack)
      XCTAssertLessThan(mean, clean - 0.2, "the mean should collapse under \(attack)")
      let rules: [AggregationRule] =
        attack.kind == .signFlip ? [.median, .trimmedMean(fraction: 0.25), .krum(f: 1)] : [.median]
      for rule in rules {
        let robust = try honestAccuracy(rule: rule, attack: attack)
        XCTAssertGreaterThan(robust, clean - 0.05, "\(rule) under \(attack): \(robust) against clean \(clean)")
      }
    }
  }

  /// FedAvg: the rule is the server's (the median of the returned models here); a client takes
  /// the server's model as it is.
  func testFedAvgServerCombinesByTheRule() throws {
    let c = try EmbeddedCluster(graph: Graph.ring(nodes: 4)) {
      $0.algorithm = "fedavg"
      $0.iterations = 1
      $0.localSteps = 20
      $0.aggregation = .median
    }
    c.startAll()
    c.run()
    let server = try XCTUnwrap(c.finish(4))
    XCTAssertNil(server.error)
    XCTAssertEqual(server.results.mixedWith[1], [0, 1, 2, 3])
    XCTAssertEqual(server.results.aggregation, "median")
    let clients = try (0..<4).map { try XCTUnwrap(c.finish($0)) }
    for f in clients { XCTAssertEqual(f.results.aggregation, "mean") }
    // Equal shards, equal weights: the midpoint of the two middle values of each parameter.
    var differsFromMean = false
    for i in 0..<server.parameters.count {
      let v = clients.map { Double($0.parameters[i]) }.sorted()
      XCTAssertEqual(server.parameters[i], Float((v[1] + v[2]) / 2), "parameter \(i)")
      if abs((v[1] + v[2]) / 2 - v.reduce(0, +) / 4) > 1e-4 { differsFromMean = true }
    }
    XCTAssertTrue(differsFromMean, "the client models were too alike to tell the median from the mean")
  }
}
