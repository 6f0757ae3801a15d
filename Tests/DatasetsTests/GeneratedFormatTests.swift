import CTurboJPEG
import Foundation
import Numerics
import XCTest

@testable import Datasets

/// Readers against small files in each format, generated here (no real FEMNIST, CelebA or
/// CIFAR-10 files are available), including truncated and corrupt ones.
final class GeneratedFormatTests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "peerd-formats-\(UUID().uuidString)"
    for sub in ["train", "test", "images", "cifar"] {
      try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
    }
  }

  func writeJSON(_ object: Any, _ path: String) throws {
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: dir + "/" + path))
  }

  func leaf(users: [String], samples: Int, x: (String, Int) -> Any, y: (String, Int) -> Int) -> [String: Any] {
    var data: [String: Any] = [:]
    for u in users {
      data[u] = ["x": (0..<samples).map { x(u, $0) }, "y": (0..<samples).map { y(u, $0) }]
    }
    return ["users": users, "num_samples": users.map { _ in samples }, "user_data": data]
  }

  func femnistPixels(_ u: String, _ i: Int) -> Any { (0..<784).map { Double(($0 + i) % 256) / 255 } }

  func testFemnistUsersAreDealtAndValidated() throws {
    try writeJSON(leaf(users: ["a", "b", "c"], samples: 4, x: femnistPixels, y: { _, i in i }), "train/part1.json")
    try writeJSON(leaf(users: ["d"], samples: 2, x: femnistPixels, y: { _, _ in 61 }), "train/part2.json")
    try writeJSON(leaf(users: ["t"], samples: 5, x: femnistPixels, y: { _, i in i }), "test/all.json")
    let s = DatasetSettings(name: "Femnist", trainDir: dir + "/train", testDir: dir + "/test", seed: 3)
    var seen = 0
    for node in 0..<2 {
      let shard = try DatasetRegistry.load(s, node: node, nodes: 2)
      XCTAssertEqual(shard.test.count, 5)
      XCTAssertEqual(shard.metadata.classCount, 62)
      XCTAssertEqual(shard.train.inputShape, [1, 28, 28])
      seen += shard.train.count
    }
    XCTAssertEqual(seen, 14, "every training sample belongs to exactly one node")
    var batch = Batch()
    try DatasetRegistry.load(s, node: 0, nodes: 2).test.fill(&batch, indices: [1][...])
    XCTAssertEqual(batch.inputs[0], 1 / 255, accuracy: 1e-6)
    XCTAssertThrowsError(try DatasetRegistry.load(s, node: 0, nodes: 5)) {
      XCTAssertTrue("\($0)".contains("4 LEAF users"))
    }

    // Corrupt inputs: count mismatch, short sample, bad label, truncated JSON.
    var bad = leaf(users: ["a"], samples: 2, x: femnistPixels, y: { _, _ in 0 })
    bad["num_samples"] = [3]
    try writeJSON(bad, "train/part1.json")
    XCTAssertThrowsError(try DatasetRegistry.load(s, node: 0, nodes: 1)) {
      XCTAssertTrue("\($0)".contains("num_samples says 3"), "\($0)")
    }
    try writeJSON(leaf(users: ["a"], samples: 1, x: { _, _ in [0.5, 0.5] }, y: { _, _ in 0 }), "train/part1.json")
    XCTAssertThrowsError(try DatasetRegistry.load(s, node: 0, nodes: 1)) {
      XCTAssertTrue("\($0)".contains("784 pixel values"), "\($0)")
    }
    try writeJSON(leaf(users: ["a"], samples: 1, x: femnistPixels, y: { _, _ in 62 }), "train/part1.json")
    XCTAssertThrowsError(try DatasetRegistry.load(s, node: 0, nodes: 1)) {
      XCTAssertTrue("\($0)".contains("expected 0…61"), "\($0)")
    }
    try Data("{\"users\": [\"a\"".utf8).write(to: URL(fileURLWithPath: dir + "/train/part1.json"))
    XCTAssertThrowsError(try DatasetRegistry.load(s, node: 0, nodes: 1)) {
      XCTAssertTrue("\($0)".contains("part1.json"), "\($0)")
    }
  }

  /// A solid-colour JPEG made with libjpeg-turbo.
  func jpeg(width: Int, height: Int, rgb: (UInt8, UInt8, UInt8)) throws -> [UInt8] {
    let handle = try XCTUnwrap(tjInitCompress())
    defer { tjDestroy(handle) }
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for i in 0..<(width * height) {
      pixels[3 * i] = rgb.0
      pixels[3 * i + 1] = rgb.1
      pixels[3 * i + 2] = rgb.2
    }
    var out: UnsafeMutablePointer<UInt8>? = nil
    var size: UInt = 0
    let rc = tjCompress2(
      handle, pixels, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue), &out, &size, Int32(TJSAMP_444.rawValue),
      95, 0)
    XCTAssertEqual(rc, 0)
    defer { tjFree(out) }
    return Array(UnsafeBufferPointer(start: out, count: Int(size)))
  }

  func testCelebaDecodesAndResizesJPEGs() throws {
    try Data(jpeg(width: 178, height: 218, rgb: (200, 100, 50))).write(to: URL(fileURLWithPath: dir + "/images/1.jpg"))
    try Data(jpeg(width: 40, height: 40, rgb: (10, 20, 30))).write(to: URL(fileURLWithPath: dir + "/images/2.jpg"))
    try writeJSON(
      leaf(
        users: ["u1", "u2"], samples: 1, x: { u, _ in u == "u1" ? "1.jpg" : "2.jpg" }, y: { u, _ in u == "u1" ? 1 : 0 }),
      "train/a.json")
    try writeJSON(
      leaf(users: ["v"], samples: 2, x: { _, i in i == 0 ? "1.jpg" : "2.jpg" }, y: { _, i in i }), "test/a.json")
    let s = DatasetSettings(
      name: "Celeba", trainDir: dir + "/train", testDir: dir + "/test", imagesDir: dir + "/images")
    let shard = try DatasetRegistry.load(s, node: 0, nodes: 1)
    XCTAssertEqual(shard.train.count, 2)
    XCTAssertEqual(shard.test.inputShape, [3, 84, 84])
    var batch = Batch()
    shard.test.fill(&batch, indices: [0][...])
    XCTAssertEqual(batch.inputs.count, 3 * 84 * 84)
    // A solid colour survives JPEG and resizing within a few levels.
    XCTAssertEqual(batch.inputs[0] * 255, 200, accuracy: 4)
    XCTAssertEqual(batch.inputs[84 * 84 + 500] * 255, 100, accuracy: 4)
    XCTAssertEqual(batch.inputs[2 * 84 * 84 + 7055] * 255, 50, accuracy: 4)
    // A broken JPEG and a missing one are named.
    try Data([0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/images/2.jpg"))
    XCTAssertThrowsError(try DatasetRegistry.load(s, node: 0, nodes: 1)) {
      XCTAssertTrue("\($0)".contains("2.jpg"), "\($0)")
    }
    try FileManager.default.removeItem(atPath: dir + "/images/2.jpg")
    XCTAssertThrowsError(try DatasetRegistry.load(s, node: 0, nodes: 1)) {
      XCTAssertTrue("\($0)".contains("download_datasets"), "\($0)")
    }
  }

  func cifarRecords(_ count: Int, label: (Int) -> UInt8) -> [UInt8] {
    var out: [UInt8] = []
    for r in 0..<count {
      out.append(label(r))
      out += (0..<3072).map { UInt8(($0 / 1024 * 60 + r) % 256) }
    }
    return out
  }

  func testCIFAR10BinaryBatches() throws {
    try Data(cifarRecords(30, label: { UInt8($0 % 10) })).write(
      to: URL(fileURLWithPath: dir + "/cifar/data_batch_1.bin"))
    try Data(cifarRecords(20, label: { UInt8(($0 + 3) % 10) })).write(
      to: URL(fileURLWithPath: dir + "/cifar/data_batch_2.bin"))
    try Data(cifarRecords(10, label: { _ in 7 })).write(to: URL(fileURLWithPath: dir + "/cifar/test_batch.bin"))
    let s = DatasetSettings(name: "CIFAR10", trainDir: dir + "/cifar", testDir: dir + "/cifar", seed: 1)
    var total = 0
    var labels: [Int32] = []
    for node in 0..<5 {
      let shard = try DatasetRegistry.load(s, node: node, nodes: 5)
      total += shard.train.count
      for i in 0..<shard.train.count { labels.append(shard.train.label(at: i)) }
      XCTAssertEqual(shard.test.count, 10)
    }
    XCTAssertEqual(total, 50)
    XCTAssertEqual(labels.filter { $0 == 3 }.count, 5)
    var batch = Batch()
    try DatasetRegistry.load(s, node: 0, nodes: 1).test.fill(&batch, indices: [2][...])
    XCTAssertEqual(batch.labels, [7])
    XCTAssertEqual(batch.inputs[0], (2 / 255 - 0.5) / 0.5, accuracy: 1e-5, "red plane of record 2")
    XCTAssertEqual(batch.inputs[1024], (62 / 255 - 0.5) / 0.5, accuracy: 1e-5, "green plane")
    // Truncated file and bad label.
    try Data(cifarRecords(3, label: { _ in 1 }).dropLast(5)).write(
      to: URL(fileURLWithPath: dir + "/cifar/test_batch.bin"))
    XCTAssertThrowsError(try DatasetRegistry.load(s, node: 0, nodes: 1)) {
      XCTAssertTrue("\($0)".contains("3073-byte"), "\($0)")
    }
    try Data(cifarRecords(3, label: { _ in 11 })).write(to: URL(fileURLWithPath: dir + "/cifar/test_batch.bin"))
    XCTAssertThrowsError(try DatasetRegistry.load(s, node: 0, nodes: 1)) {
      XCTAssertTrue("\($0)".contains("label 11"), "\($0)")
    }
  }
}
