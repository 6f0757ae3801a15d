import Foundation
import XCTest

@testable import Learning

/// `peerctl report --summary`: each evaluating node's last value, the rounds range, the traffic
/// per graph node, and FedAvg's figure from its server alone.
final class RunSummaryTests: XCTestCase {
  func record(uid: Int, role: String = "peer", rounds: Int, acc: Double?, bytes: Int, counters: [String: Int] = [:])
    -> NodeResults
  {
    var r = NodeResults()
    r.uid = uid
    r.role = role
    r.algorithm = role == "peer" ? "rwm" : "fedavg"
    r.roundsCompleted = rounds
    if let acc {
      r.testAcc[rounds / 2] = acc - 10
      r.testAcc[rounds] = acc
    }
    r.totalBytes[rounds] = bytes
    r.elapsedTime[rounds] = Double(rounds) / 10
    r.counters = counters
    return r
  }

  func testEachNodesLastValueAndTheRoundsRange() {
    let s = RunReport.summarise([
      record(uid: 0, rounds: 100, acc: 90, bytes: 2_000_000, counters: ["rwm_reinjections": 2]),
      record(uid: 1, rounds: 80, acc: 88, bytes: 1_000_000, counters: ["rwm_reinjections": 1]),
    ])
    XCTAssertEqual(s.algorithm, "rwm")
    XCTAssertEqual(s.nodes, 2)
    XCTAssertFalse(s.hasServer)
    XCTAssertEqual(s.finalMetric, 89)
    XCTAssertEqual(s.minRounds, 80)
    XCTAssertEqual(s.maxRounds, 100)
    XCTAssertEqual(s.seconds, 10)
    XCTAssertEqual(s.megabytesPerNode, 1.5)
    XCTAssertEqual(s.counters, ["rwm_reinjections": 3])
    XCTAssertTrue(s.line.hasPrefix("rwm        2      acc%        89.00  80-100"), s.line)
  }

  func testFedAvgIsTheServersModelAndItsTrafficIsShared() {
    let s = RunReport.summarise([
      record(uid: 0, role: "client", rounds: 40, acc: nil, bytes: 1_000_000),
      record(uid: 1, role: "client", rounds: 60, acc: nil, bytes: 1_000_000),
      record(uid: 2, role: "server", rounds: 100, acc: 91, bytes: 4_000_000),
    ])
    XCTAssertEqual(s.nodes, 2)
    XCTAssertTrue(s.hasServer)
    XCTAssertEqual(s.finalMetric, 91)
    XCTAssertEqual(s.minRounds, 100)
    XCTAssertEqual(s.maxRounds, 100)
    XCTAssertEqual(s.megabytesPerNode, 3)
    XCTAssertTrue(s.line.hasPrefix("fedavg     2+1    acc%        91.00  100 "), s.line)
  }
}
