import Foundation
import Topology
import XCTest

@testable import Learning

/// `evaluate_at_start`: round 0 records what the run evaluates, and only that.
final class EmbeddedRoundZeroTests: XCTestCase {
  func run(_ configure: @escaping (inout NodePlan) -> Void, graph: Graph = Graph.ring(nodes: 4)) throws -> [Int:
    EmbeddedCluster.Finish]
  {
    let c = try EmbeddedCluster(graph: graph) {
      $0.iterations = 2
      $0.evaluateBeforeTraining = true
      configure(&$0)
    }
    c.startAll()
    c.run()
    var out: [Int: EmbeddedCluster.Finish] = [:]
    for uid in c.uids { out[uid] = try XCTUnwrap(c.finish(uid)) }
    return out
  }

  func testRoundZeroHasTheTestAndTrainLossTheRunEvaluates() throws {
    let nodes = try run {
      $0.testAfter = 1
      $0.trainEvaluateAfter = 1
    }
    for (uid, f) in nodes {
      XCTAssertNil(f.error, "node \(uid)")
      XCTAssertNotNil(f.results.testAcc[0], "node \(uid)")
      XCTAssertNotNil(f.results.trainLoss[0], "node \(uid)")
      XCTAssertEqual(f.results.totalBytes[0], 0, "node \(uid)")
    }
  }

  /// With no evaluation at all there is no round 0 (it was a test of the untrained model,
  /// reported as the run's final accuracy).
  func testNothingIsEvaluatedAtRoundZeroWhenTheRunEvaluatesNothing() throws {
    let nodes = try run {
      $0.testAfter = 0
      $0.trainEvaluateAfter = 0
    }
    for (uid, f) in nodes {
      XCTAssertNil(f.error, "node \(uid)")
      XCTAssertEqual(f.results.testAcc.rounds, [], "node \(uid)")
      XCTAssertEqual(f.results.trainLoss.rounds, [], "node \(uid)")
    }
  }

  /// FedAvg's server holds no training shard: its round 0 has a test, never a train loss of 0.
  func testTheFedAvgServerRecordsNoTrainLoss() throws {
    let nodes = try run {
      $0.algorithm = "fedavg"
      $0.testAfter = 1
      $0.trainEvaluateAfter = 1
    }
    let server = try XCTUnwrap(nodes[4])
    XCTAssertNil(server.error)
    XCTAssertNotNil(server.results.testAcc[0])
    XCTAssertNil(server.results.trainLoss[0])
  }
}
