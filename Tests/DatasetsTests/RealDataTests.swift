import Foundation
import Numerics
import XCTest

@testable import Datasets

/// Readers against the real files in ../shared/data (skipped, naming the download script, when absent).
final class RealDataTests: XCTestCase {
  let cache = NSTemporaryDirectory() + "peerd-test-cache"

  func mnistDir() throws -> String {
    guard let dir = DataLocator.resolve("mnist") else {
      throw XCTSkip("MNIST not found in $PEERD_DATA, ./data or ../shared/data; run scripts/download_datasets.sh")
    }
    return dir
  }

  func testMNISTCountsLabelsAndPixels() throws {
    let dir = try mnistDir()
    let (train, test) = try MNISTReader.load(trainDir: dir, testDir: dir, cacheDirectory: cache)
    XCTAssertEqual(train.count, 60000)
    XCTAssertEqual(test.count, 10000)
    XCTAssertEqual(train.label(at: 0), 5)
    XCTAssertEqual(test.label(at: 0), 7)
    XCTAssertEqual(train.inputShape, [1, 28, 28])
    // The first training image has ink (max 255) and background (0).
    let pixels = (0..<784).map { train.pixel(0, $0) }
    XCTAssertEqual(pixels.max(), 255)
    XCTAssertEqual(pixels.min(), 0)
    var batch = Batch()
    train.fill(&batch, indices: [0, 1][...])
    XCTAssertEqual(batch.count, 2)
    XCTAssertEqual(batch.inputs.count, 2 * 784)
    XCTAssertEqual(batch.labels, [5, 0])
    XCTAssertEqual(batch.inputs[0], -0.1307 / 0.3081, accuracy: 1e-5)
  }

  func testMNISTShardsAcrossNodes() throws {
    let dir = try mnistDir()
    let s = DatasetSettings(name: "MNIST", trainDir: dir, testDir: dir, seed: 90, cacheDirectory: cache)
    let a = try DatasetRegistry.load(s, node: 3, nodes: 16)
    XCTAssertEqual(a.train.count, 3750)
    XCTAssertEqual(a.test.count, 10000)
    XCTAssertEqual(a.metadata.classCount, 10)
  }

  func testMovieLensCountsAndLocalSplit() throws {
    guard let dir = DataLocator.resolve("movielens/ml-latest-small") else {
      throw XCTSkip("MovieLens not found; run scripts/download_datasets.sh")
    }
    let r = try MovieLensReader.read(dir + "/ratings.csv")
    XCTAssertEqual(r.ratings.count, 100836)
    XCTAssertEqual(r.userCount, 610)
    XCTAssertEqual(r.itemCount, 9724)
    let s = DatasetSettings(name: "MovieLens", trainDir: dir, seed: 90)
    var train = 0
    var test = 0
    for node in 0..<16 {
      let shard = try DatasetRegistry.load(s, node: node, nodes: 16)
      train += shard.train.count
      test += shard.test.count
      XCTAssertEqual(shard.metadata.users, 610)
      XCTAssertEqual(shard.metadata.items, 9724)
    }
    XCTAssertEqual(train + test, 100836, "every rating lands in exactly one node's train or test")
    XCTAssertEqual(Double(train) / 100836, 0.7, accuracy: 0.01)
    XCTAssertThrowsError(try DatasetRegistry.load(s, node: 0, nodes: 611)) {
      XCTAssertTrue("\($0)".contains("610 users"))
    }
  }
}

final class MovieLensCacheTests: XCTestCase {
  func testCacheRoundTripsAndRejectsDamage() throws {
    guard let dir = DataLocator.resolve("movielens/ml-latest-small") else {
      throw XCTSkip("MovieLens not found; run scripts/download_datasets.sh")
    }
    let cache = NSTemporaryDirectory() + "peerd-ml-cache-\(UUID().uuidString)"
    let parsed = try MovieLensReader.read(dir + "/ratings.csv")
    let first = try MovieLensReader.read(dir + "/ratings.csv", cacheDirectory: cache)  // writes the cache
    let second = try MovieLensReader.read(dir + "/ratings.csv", cacheDirectory: cache)  // reads it
    XCTAssertEqual(first.ratings, parsed.ratings)
    XCTAssertEqual(second.users, parsed.users)
    XCTAssertEqual(second.items, parsed.items)
    XCTAssertEqual(second.ratings, parsed.ratings)
    var damaged = MovieLensReader.encodeCache(parsed)
    damaged.removeLast()
    XCTAssertNil(MovieLensReader.decodeCache(damaged))
  }
}
