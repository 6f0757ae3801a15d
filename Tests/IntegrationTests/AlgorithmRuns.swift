import Foundation
import Learning
import XCTest

/// What the algorithm tests share: 16 real peerd processes on a 4-regular graph, logistic
/// regression on MNIST (the learning target is ≥ 87 % mean test accuracy within 100 rounds
/// or iterations). CI runs each at the size below; `scripts/compare_algorithms.sh` runs the full
/// 100 rounds of all five side by side.
enum AlgorithmRuns {
  static let nodes = 16
  /// Logistic regression on MNIST: 7840 weights and 10 biases.
  static let parameters = 784 * 10 + 10

  /// A config for `algorithm` with `[NODE]` extras, or a skip when MNIST is not found.
  static func mnist(_ algorithm: String, iterations: Int, testAfter: Int, peerTimeout: Double = 10, node: String = "")
    throws -> String
  {
    guard let mnist = ClusterTests.mnistDir() else {
      throw XCTSkip("MNIST not found in $PEERD_DATA, ./data or ../shared/data; run scripts/download_datasets.sh")
    }
    return testConfig(
      dataset: "MNIST", model: "LogisticRegression", extraDataset: "train_dir = \(mnist)\ntest_dir = \(mnist)",
      iterations: iterations, testAfter: testAfter, peerTimeout: peerTimeout, startTimeout: 30)
      + "\nalgorithm = \(algorithm)\nsave_weights = False\n" + node
  }

  /// Each record's final test accuracy (its last evaluation: every node's own last iteration for
  /// RWM, the server's for FedAvg), averaged.
  static func meanFinalAccuracy(_ records: [NodeResults]) -> Double {
    let finals = records.compactMap { $0.testAcc.last }
    return finals.reduce(0, +) / Double(max(1, finals.count))
  }

  /// The graph's neighbours of every uid, read from the harness's edge list.
  static func neighbours(_ h: ClusterHarness) throws -> [Int: Set<Int>] {
    var out: [Int: Set<Int>] = [:]
    let lines = try String(contentsOfFile: h.dir + "/graph.txt", encoding: .utf8).split(separator: "\n").dropFirst()
    for line in lines {
      let ends = line.split(separator: " ").compactMap { Int($0) }
      guard ends.count == 2 else { continue }
      out[ends[0], default: []].insert(ends[1])
      out[ends[1], default: []].insert(ends[0])
    }
    return out
  }

  /// Model messages a node sent, over all peers.
  static func messagesSent(_ r: NodeResults) -> Int { r.neighbourBytes.values.reduce(0) { $0 + $1.sentMessages } }
}
