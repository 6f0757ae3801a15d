import Foundation
import Numerics
import XCTest

@testable import Datasets

/// Issue 11's dataset holes: gzip failures in words, output bounded by the declared size,
/// caches keyed by content, and empty shards as errors.
final class HostileInputTests: XCTestCase {
  let dir = NSTemporaryDirectory() + "peerd-hostile-\(UUID().uuidString)"

  override func setUp() { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  func write(_ name: String, _ bytes: [UInt8]) {
    _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes))
  }

  func labelsFile(_ labels: [UInt8]) -> [UInt8] {
    [0, 0, 8, 1, 0, 0, UInt8(labels.count >> 8), UInt8(labels.count & 0xFF)] + labels
  }

  func imagesFile(count: Int, fill: UInt8 = 7) -> [UInt8] {
    [0, 0, 8, 3, 0, 0, 0, UInt8(count), 0, 0, 0, 28, 0, 0, 0, 28] + [UInt8](repeating: fill, count: count * 784)
  }

  func failure(_ body: () throws -> Any) -> DatasetError? {
    do {
      _ = try body()
      return nil
    } catch { return error as? DatasetError }
  }

  func testGzipFailuresAreNamedInWords() {
    let gz = Gzip.compress(labelsFile([UInt8](repeating: 3, count: 300)))
    XCTAssertEqual(try Gzip.decompress(Data(gz), path: "ok.gz").count, 308)
    let truncated = failure { try Gzip.decompress(Data(gz.prefix(gz.count / 2)), path: "half.gz") }
    XCTAssertEqual(truncated?.kind, .truncated)
    XCTAssertEqual(truncated?.description, "half.gz: truncated gzip stream (the file ends early)")
    var flipped = gz
    flipped[gz.count - 6] ^= 0xFF  // inside the CRC32 trailer
    let corrupt = failure { try Gzip.decompress(Data(flipped), path: "bad.gz") }
    XCTAssertEqual(corrupt?.kind, .corruptCompression)
    XCTAssertEqual(corrupt?.description, "bad.gz: corrupt gzip data (incorrect data check)")
    for e in [truncated, corrupt] { XCTAssertFalse(e?.description.contains("status") ?? true) }
    // gzip(1) concatenates members; both are read.
    XCTAssertEqual(try Gzip.decompress(Data(gz + Gzip.compress([1, 2, 3])), path: "two.gz").count, 311)
  }

  func testDecompressionStopsAtTheDeclaredSize() {
    // 8 MiB of zeros compress to 8 KiB; the header declares 10 labels.
    let bomb = Gzip.compress(
      labelsFile([UInt8](repeating: 1, count: 10)) + [UInt8](repeating: 0, count: 8 << 20))
    XCTAssertLessThan(bomb.count, 20_000)
    let e = failure { try DatasetDecoders.idx(Data(bomb), path: "bomb.gz") }
    XCTAssertEqual(e?.kind, .tooLarge)
    XCTAssertEqual(e?.description, "bomb.gz: decompresses to more than the 18 bytes its header declares")
    XCTAssertEqual(
      ([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28] as [UInt8]).withUnsafeBytes { IDX.declaredSize($0) },
      16 + 2 * 784)
    XCTAssertNil(
      ([0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 2] as [UInt8]).withUnsafeBytes {
        IDX.declaredSize($0)
      })
  }

  /// The hole of issue 11: a corrupt file with the name, size and modification time of one
  /// decoded before was answered from the cache of the intact file. It must fail on its own.
  func testACorruptIDXFileIsNeverHiddenByTheCacheOfItsIntactTwin() throws {
    let labels = Gzip.compress(labelsFile([UInt8](repeating: 4, count: 3)))
    write("train-labels-idx1-ubyte.gz", labels)
    write("train-images-idx3-ubyte.gz", Gzip.compress(imagesFile(count: 3)))
    write("t10k-labels-idx1-ubyte", labelsFile([1, 2]))
    write("t10k-images-idx3-ubyte", imagesFile(count: 2))
    let cache = dir + "/cache"
    XCTAssertEqual(try MNISTReader.load(trainDir: dir, testDir: dir, cacheDirectory: cache).train.count, 3)
    let path = dir + "/train-labels-idx1-ubyte.gz"
    let mtime = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    var corrupt = labels
    corrupt[labels.count - 6] ^= 0x55  // same size, broken CRC
    write("train-labels-idx1-ubyte.gz", corrupt)
    try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: path)
    let e = failure { try MNISTReader.load(trainDir: dir, testDir: dir, cacheDirectory: cache) }
    XCTAssertEqual(e?.kind, .corruptCompression, "the corrupt file was answered from the cache")
    XCTAssertEqual(e?.description, "\(path): corrupt gzip data (incorrect data check)")
    // The intact file finds its cache again.
    write("train-labels-idx1-ubyte.gz", labels)
    XCTAssertEqual(try MNISTReader.load(trainDir: dir, testDir: dir, cacheDirectory: cache).train.count, 3)
  }

  func testACorruptRatingsFileIsNeverHiddenByTheCacheOfItsIntactTwin() throws {
    let good = "userId,movieId,rating,timestamp\n1,10,4.0,5\n2,10,3.5,6\n"
    write("ratings.csv", Array(good.utf8))
    let path = dir + "/ratings.csv"
    let cache = dir + "/cache"
    XCTAssertEqual(try MovieLensReader.read(path, cacheDirectory: cache).ratings, [4.0, 3.5])
    let mtime = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    write("ratings.csv", Array(good.replacingOccurrences(of: "3.5", with: "3.x").utf8))
    try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: path)
    let e = failure { try MovieLensReader.read(path, cacheDirectory: cache) }
    XCTAssertEqual(e?.description, "\(path):3: bad rating row '2,10,3.x,6'; expected userId,movieId,rating,timestamp")
  }

  func testRatingsWithCROnlyLineEndingsParse() throws {
    let r = try MovieLensReader.parse(
      Data("\u{FEFF}userId,movieId,rating,timestamp\r1,10,4.0,5\r2,11,3.0,6\r".utf8), path: "r.csv")
    XCTAssertEqual(r.ratings, [4.0, 3.0])
  }

  func testEmptyShardsAreErrors() {
    let labels = (0..<100).map { Int32($0 % 10) }
    let e = failure {
      try Partitioner.partition(
        labels: labels, classes: 10, nodes: 3, scheme: .sizes([0.5, 0.5, 0.0]), rng: Xoshiro256(seed: 1))
    }
    XCTAssertEqual(e?.kind, .emptyShard)
    XCTAssertEqual(
      e?.description,
      "node 2 would get no training samples (sizes gives it 0.0 of 100 samples); every node needs at least one")
    var s = DatasetSettings(name: "Synthetic", seed: 2)
    s.synthetic.samplesPerNode = 1
    s.validation = ValidationSplit(source: .train, fraction: 0.5)
    XCTAssertEqual(failure { try DatasetRegistry.load(s, node: 0, nodes: 2) }?.kind, .emptyShard)
  }

  func testLEAFLabelsTooLargeForAnIntAreErrorsNotTraps() {
    let json = #"{"users": ["u"], "num_samples": [1], "user_data": {"u": {"x": [[0]], "y": [1e300]}}}"#
    let e = failure { try DatasetDecoders.leafFemnist(Data(json.utf8), path: "f.json") }
    XCTAssertEqual(e?.description, "f.json: user 'u' sample 0 has label '1e+300'; expected 0…61")
  }
}
