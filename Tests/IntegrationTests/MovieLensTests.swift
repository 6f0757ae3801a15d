import Foundation
import XCTest

final class MovieLensClusterTests: XCTestCase {
  /// 16 nodes of matrix factorization with local test ratings beat both baselines: the global
  /// mean (RMSE ≈ 1.04) and each user's own mean (≈ 0.94).
  func testMatrixFactorizationBeatsUserMeanBaseline() throws {
    guard
      let dir = ["data", "../shared/data"].map({
        ClusterHarness.root.appendingPathComponent($0).standardized.path + "/movielens/ml-latest-small"
      })
      .first(where: { FileManager.default.fileExists(atPath: $0 + "/ratings.csv") })
    else { throw XCTSkip("MovieLens not found; run scripts/download_datasets.sh") }
    let h = try ClusterHarness(
      nodes: 16, degree: 4,
      config: testConfig(
        dataset: "MovieLens", model: "MatrixFactorization", extraDataset: "train_dir = \(dir)", iterations: 300,
        testAfter: 100, loss: "MSELoss"))
    XCTAssertEqual(h.wait(try h.start(), timeout: 600), [Int32](repeating: 0, count: 16), h.output(0))
    var sum = 0.0
    for uid in 0..<16 { sum += try h.series(uid, "test_rmse")[300]! }
    XCTAssertLessThan(sum / 16, 0.94, "mean local test RMSE \(sum / 16)")
  }
}
