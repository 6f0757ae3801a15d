import Foundation
import Learning
import XCTest

final class MovieLensRandomWalkTests: XCTestCase {
  static let iterations = Int(ProcessInfo.processInfo.environment["PEERD_RWM_MF_ITERATIONS"] ?? "") ?? 500

  /// 16 nodes of matrix factorization with the random walk beat each user's own mean rating
  /// (RMSE ≈ 0.94) within 500 iterations: every node's final model, on its local test ratings.
  func testRandomWalkMatrixFactorizationBeatsUserMeanBaseline() throws {
    guard
      let dir = ["data", "../shared/data"].map({
        ClusterHarness.root.appendingPathComponent($0).standardized.path + "/movielens/ml-latest-small"
      })
      .first(where: { FileManager.default.fileExists(atPath: $0 + "/ratings.csv") })
    else { throw XCTSkip("MovieLens not found; run scripts/download_datasets.sh") }
    let n = 16
    let h = try ClusterHarness(
      nodes: n, degree: 4,
      config: testConfig(
        dataset: "MovieLens", model: "MatrixFactorization", extraDataset: "train_dir = \(dir)",
        iterations: Self.iterations, testAfter: Self.iterations, loss: "MSELoss")
        + "\nalgorithm = rwm\nsave_weights = False\n")
    XCTAssertEqual(h.wait(try h.start(), timeout: 900), [Int32](repeating: 0, count: n), h.output(0))
    let records = try (0..<n).map { try h.record($0) }
    let finals = records.compactMap { $0.testRMSE.last }
    XCTAssertEqual(finals.count, n)
    let mean = finals.reduce(0, +) / Double(n)
    print("rwm movielens: mean final RMSE \(mean), iterations \(records.map(\.roundsCompleted).sorted())")
    XCTAssertLessThan(mean, 0.94, "mean local test RMSE \(mean)")
  }
}
