import Foundation
import Learning
import XCTest

/// Issue 14's byte budgets and learning on real processes: 8 peerd processes over loopback TCP,
/// 4-regular, D-PSGD, MNIST logistic regression (P = 7,850), SGD lr 0.05, 5 steps of batch 16 a
/// round. Every round a node sends one message to each of its 4 neighbours; the budgets are the
/// issue's per node and round, divided by 4 (docs/performance.md has the 16-node, 100-round
/// table these are the CI-sized checks of).
final class SharingClusterTests: XCTestCase {
  static let rounds = 20
  /// A full-sharing message: the 64-byte header and 4 bytes a parameter.
  static let fullMessage = 64 + 4 * 7850

  /// Runs the cluster with `sharing` as its `[SHARING]` lines; returns every node's record.
  func run(_ sharing: String) throws -> [NodeResults] {
    guard let mnist = ClusterTests.mnistDir() else {
      throw XCTSkip("MNIST not found in $PEERD_DATA, ./data or ../shared/data; run scripts/download_datasets.sh")
    }
    let config =
      testConfig(
        dataset: "MNIST", model: "LogisticRegression", extraDataset: "train_dir = \(mnist)\ntest_dir = \(mnist)",
        lr: 0.05, rounds: 5, iterations: Self.rounds, testAfter: Self.rounds) + "\n[SHARING]\n" + sharing + "\n"
    let h = try ClusterHarness(nodes: 8, degree: 4, config: config)
    let status = h.wait(try h.start(), timeout: 300)
    XCTAssertEqual(status, [Int32](repeating: 0, count: 8), h.output(0))
    return try (0..<8).map { try h.record($0) }
  }

  /// Every node sent 4 messages a round, each at most `budget` bytes from round `from` on, mixed
  /// with its 4 neighbours every round, had nothing refused, recorded its CPU time every round,
  /// and reached `accuracy` %.
  func check(
    _ records: [NodeResults], budget: Int, from: Int = 1, accuracy: Double = 85, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    for r in records {
      let messages = r.neighbourBytes.values.reduce(0) { $0 + $1.sentMessages }
      XCTAssertEqual(messages, 4 * Self.rounds, "node \(r.uid)", file: file, line: line)
      for round in from...Self.rounds {
        let sent = (r.totalBytes[round] ?? 0) - (r.totalBytes[round - 1] ?? 0)
        XCTAssertLessThanOrEqual(sent, 4 * budget, "node \(r.uid) round \(round)", file: file, line: line)
        XCTAssertEqual(r.mixedWith[round]?.count, 4, "node \(r.uid) round \(round)", file: file, line: line)
      }
      XCTAssertEqual(r.rejectedFrames, [:], "node \(r.uid)", file: file, line: line)
      // The process's CPU clock, read at every round's end, never runs backwards and does run.
      let cpu = (1...Self.rounds).compactMap { r.cpuTime[$0] }
      XCTAssertEqual(cpu.count, Self.rounds, "node \(r.uid)", file: file, line: line)
      XCTAssertEqual(cpu, cpu.sorted(), "node \(r.uid)", file: file, line: line)
      XCTAssertGreaterThan(cpu.last ?? 0, cpu.first ?? 0, "node \(r.uid)", file: file, line: line)
      let acc = r.testAcc[Self.rounds] ?? 0
      XCTAssertGreaterThan(acc, accuracy, "node \(r.uid)", file: file, line: line)
    }
  }

  /// ≤ 16,000 bytes per node and round (decentralizepy: 26,398).
  func testPartialModelAtAlphaOneTenth() throws {
    check(try run("sharing_class = PartialModel\nalpha = 0.1"), budget: 4000)
  }

  /// ≤ 12,900 bytes per node and round (decentralizepy: 13,520); the seed replaces the indices.
  func testSubSamplingAtAlphaOneTenth() throws {
    check(try run("sharing_class = SubSampling\nalpha = 0.1"), budget: 3225)
  }

  /// CHOCO's 8-bit deltas, ≤ 0.27 × a full-sharing message from round 2 on; round 1 is the
  /// keyframe every pair starts with (the copy as float32).
  func testQuantizeEightBits() throws {
    let records = try run("sharing_class = Quantize\nbits = 8")
    check(records, budget: Self.fullMessage * 27 / 100, from: 2)
    for r in records {
      // A keyframe: the copy as float32 behind the header, the prefix and the copy's tag.
      XCTAssertLessThanOrEqual(r.totalBytes[1] ?? 0, 4 * (Self.fullMessage + 64), "node \(r.uid)")
    }
  }

  /// 1 bit a parameter, ≤ 0.05 × a full-sharing message from round 2 on; it learns more slowly
  /// (the issue asks 85 % by round 200 on 16 nodes), so the bar after 20 rounds is lower.
  func testQuantizeOneBit() throws {
    check(try run("sharing_class = Quantize\nbits = 1"), budget: Self.fullMessage * 5 / 100, from: 2, accuracy: 80)
  }
}
