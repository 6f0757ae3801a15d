import Foundation
import Numerics
import XCTest

@testable import Datasets

final class PartitionTests: XCTestCase {
  let labels: [Int32] = (0..<2000).map { Int32(($0 * 7 + $0 / 3) % 10) }

  func parts(_ scheme: PartitionScheme, seed: UInt64 = 1, nodes: Int = 8) throws -> [[Int]] {
    try Partitioner.partition(labels: labels, classes: 10, nodes: nodes, scheme: scheme, rng: Xoshiro256(seed: seed))
  }

  func testPartitionsAreDisjointDeterministicAndSeeded() throws {
    for scheme in [
      PartitionScheme.iid, .shards(perNode: 2), .dirichlet(alpha: 0.5), .classesPerNode(2),
      .sizes([0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]),
    ] {
      let p = try parts(scheme)
      let all = p.flatMap { $0 }
      XCTAssertEqual(Set(all).count, all.count, "\(scheme) overlaps")
      XCTAssertTrue(all.allSatisfy { $0 >= 0 && $0 < labels.count })
      XCTAssertEqual(try parts(scheme), p, "\(scheme) not reproducible")
      XCTAssertNotEqual(try parts(scheme, seed: 2), p, "\(scheme) ignores the seed")
    }
    XCTAssertEqual(try parts(.iid).flatMap { $0 }.count, 2000, "IID covers the data")
    XCTAssertEqual(try parts(.iid).map(\.count), [Int](repeating: 250, count: 8))
    XCTAssertEqual(try parts(.dirichlet(alpha: 1)).flatMap { $0 }.count, 2000, "Dirichlet covers the data")
    XCTAssertEqual(try parts(.sizes([0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]))[0].count, 600)
  }

  func classes(_ part: [Int]) -> Set<Int32> { Set(part.map { labels[$0] }) }

  func testShardsAndClassesPerNodeLimitClasses() throws {
    for p in try parts(.shards(perNode: 2)) { XCTAssertLessThanOrEqual(classes(p).count, 4) }
    for p in try parts(.classesPerNode(2)) { XCTAssertEqual(classes(p).count, 2) }
  }

  func testDirichletSkewGrowsAsAlphaShrinks() throws {
    func meanMaxFraction(_ alpha: Double) throws -> Double {
      let p = try parts(.dirichlet(alpha: alpha), nodes: 4)
      return p.map { part in
        let counts = Dictionary(grouping: part, by: { labels[$0] }).values.map(\.count)
        return Double(counts.max() ?? 0) / Double(part.count)
      }.reduce(0, +) / 4
    }
    XCTAssertGreaterThan(try meanMaxFraction(0.1), try meanMaxFraction(100) + 0.2)
  }

  func testBadSchemesAreClearErrors() {
    XCTAssertThrowsError(try parts(.sizes([0.5, 0.5]))) { XCTAssertTrue("\($0)".contains("one per node")) }
    XCTAssertThrowsError(try parts(.sizes([Double](repeating: 0.2, count: 8)))) {
      XCTAssertTrue("\($0)".contains("summing to 1"))
    }
    XCTAssertThrowsError(try parts(.iid, nodes: 5000)) { XCTAssertTrue("\($0)".contains("cannot split")) }
  }

  func testBatchIteratorCoversEachSampleOncePerEpochAndReshuffles() {
    let source = DenseSource(
      features: (0..<50).map(Float.init), labels: (0..<50).map(Int32.init), inputShape: [1], classCount: 50)
    var it = BatchIterator(source: source, batchSize: 16, shuffle: true, rng: Xoshiro256(seed: 3))
    // 50 = 16 + 16 + 18: the 2 left over join the last batch instead of making a step alone.
    XCTAssertEqual(it.batchesPerEpoch, 3)
    var batch = Batch()
    var epochs: [[Int32]] = [[], []]
    var sizes: [Int] = []
    for e in 0..<2 {
      while it.next(into: &batch) {
        epochs[e] += batch.labels
        sizes.append(batch.labels.count)
      }
    }
    XCTAssertEqual(sizes, [16, 16, 18, 16, 16, 18])
    XCTAssertEqual(epochs[0].sorted(), (0..<50).map(Int32.init))
    XCTAssertEqual(epochs[1].sorted(), (0..<50).map(Int32.init))
    XCTAssertNotEqual(epochs[0], epochs[1])
    var again = BatchIterator(source: source, batchSize: 16, shuffle: true, rng: Xoshiro256(seed: 3))
    var first: [Int32] = []
    while again.next(into: &batch) { first += batch.labels }
    XCTAssertEqual(first, epochs[0])
  }

  func testSyntheticIsDeterministicAndLabelled() throws {
    var s = DatasetSettings(name: "Synthetic", seed: 5)
    s.synthetic.samplesPerNode = 100
    let a = try DatasetRegistry.load(s, node: 2, nodes: 4)
    let b = try DatasetRegistry.load(s, node: 2, nodes: 4)
    var ba = Batch()
    var bb = Batch()
    a.train.fill(&ba, indices: [0, 1, 2][...])
    b.train.fill(&bb, indices: [0, 1, 2][...])
    XCTAssertEqual(ba.inputs, bb.inputs)
    XCTAssertEqual(a.train.count, 100)
    XCTAssertEqual(a.test.count, 2000)
    s.synthetic.kind = .leaf
    let leaf = try DatasetRegistry.load(s, node: 1, nodes: 4)
    XCTAssertEqual(leaf.train.count, 100)
    XCTAssertEqual(leaf.train.inputShape, [60])
  }
}

final class CorruptInputTests: XCTestCase {
  let dir = NSTemporaryDirectory() + "peerd-corrupt-\(UUID().uuidString)"

  override func setUp() { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }

  func write(_ name: String, _ bytes: [UInt8]) {
    _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes))
  }

  func idxImages(count: Int) -> [UInt8] {
    var b: [UInt8] = [0, 0, 8, 3, 0, 0, 0, UInt8(count), 0, 0, 0, 28, 0, 0, 0, 28]
    b += [UInt8](repeating: 7, count: count * 784)
    return b
  }

  func loadError() -> String {
    do {
      _ = try MNISTReader.load(trainDir: dir, testDir: dir, cacheDirectory: dir + "/cache")
      return "accepted"
    } catch { return "\(error)" }
  }

  func testUncompressedIDXLoadsAndCorruptionIsNamed() {
    write("train-images-idx3-ubyte", idxImages(count: 3))
    write("train-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3])
    write("t10k-images-idx3-ubyte", idxImages(count: 2))
    write("t10k-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 2, 4, 5])
    XCTAssertEqual(loadError(), "accepted")
    write("t10k-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 3, 4, 5])
    XCTAssertTrue(loadError().contains("3 labels, file holds 2"), loadError())
    write("t10k-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 2, 4, 11])
    XCTAssertTrue(loadError().contains("not a digit class"), loadError())
    write("t10k-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 2, 4, 5])
    write("train-images-idx3-ubyte", Array(idxImages(count: 3).dropLast(10)))
    XCTAssertTrue(loadError().contains("truncated"), loadError())
    var wrong = idxImages(count: 3)
    wrong[3] = 1
    write("train-images-idx3-ubyte", wrong)
    XCTAssertTrue(loadError().contains("wrong magic number"), loadError())
    write("train-images-idx3-ubyte", [0, 0])
    XCTAssertTrue(loadError().contains("truncated IDX header"), loadError())
    // Sizes whose product overflows Int: an error, not a trap.
    write("train-images-idx3-ubyte", [0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12) + [1, 2, 3])
    XCTAssertTrue(loadError().contains("more than"), loadError())
    try? FileManager.default.removeItem(atPath: dir + "/train-images-idx3-ubyte")
    XCTAssertTrue(loadError().contains("scripts/download_datasets.sh"), loadError())
  }

  func testTruncatedGzipIsRejected() throws {
    guard let mnist = DataLocator.resolve("mnist") else {
      throw XCTSkip("MNIST not found; run scripts/download_datasets.sh")
    }
    let data = try Data(contentsOf: URL(fileURLWithPath: mnist + "/t10k-labels-idx1-ubyte.gz"))
    XCTAssertThrowsError(try Gzip.decompress(data.prefix(data.count / 2), path: "half.gz")) {
      XCTAssertTrue("\($0)".contains("half.gz"))
    }
    var corrupt = data
    corrupt[40] ^= 0xFF
    corrupt[41] ^= 0xFF
    XCTAssertThrowsError(try Gzip.decompress(corrupt, path: "bad.gz"))
    XCTAssertEqual(try Gzip.decompress(data, path: "ok.gz").count, 10008)
  }

  func testBadMovieLensRowNamesTheLine() {
    write("ratings.csv", Array("userId,movieId,rating,timestamp\r\n1,2,4.0,5\r\n1,x,3,4\r\n".utf8))
    XCTAssertThrowsError(try MovieLensReader.read(dir + "/ratings.csv")) {
      XCTAssertTrue("\($0)".contains("ratings.csv:3: bad rating row"), "\($0)")
    }
    write("ratings.csv", Array("user,item\n".utf8))
    XCTAssertThrowsError(try MovieLensReader.read(dir + "/ratings.csv")) {
      XCTAssertTrue("\($0)".contains("expected the header"))
    }
  }
}

final class ValidationSplitTests: XCTestCase {
  func testValidationComesFromTrainOrTest() throws {
    var s = DatasetSettings(name: "Synthetic", seed: 2)
    s.synthetic.samplesPerNode = 100
    s.synthetic.testSamples = 200
    s.validation = ValidationSplit(source: .train, fraction: 0.2)
    let a = try DatasetRegistry.load(s, node: 0, nodes: 2)
    XCTAssertEqual(a.train.count, 80)
    XCTAssertEqual(a.validation?.count, 20)
    XCTAssertEqual(a.test.count, 200)
    s.validation = ValidationSplit(source: .test, fraction: 0.25)
    let b = try DatasetRegistry.load(s, node: 0, nodes: 2)
    XCTAssertEqual(b.train.count, 100)
    XCTAssertEqual(b.validation?.count, 50)
    XCTAssertEqual(b.test.count, 150)
  }
}
