import Foundation
import XCTest

@testable import Numerics

final class ContentHashTests: XCTestCase {
  /// Reference values from the xxhash C library (python-xxhash 3), one per code path: empty,
  /// the 1-, 4- and 8-byte tails, exactly one 32-byte stripe, many stripes, and a seed.
  func testXXH64MatchesTheReferenceImplementation() {
    func h(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 { bytes.withUnsafeBytes { ContentHash.xxh64($0, seed: seed) } }
    let thousand = (0..<1000).map { UInt8($0 % 251) }
    XCTAssertEqual(h([]), 0xEF46_DB37_51D8_E999)
    XCTAssertEqual(h(Array("a".utf8)), 0xD24E_C4F1_A98C_6E5B)
    XCTAssertEqual(h(Array("abc".utf8)), 0x44BC_2CF5_AD77_0999)
    XCTAssertEqual(h((0..<31).map { UInt8($0) }), 0xC346_D2B5_9B4D_8EE1)
    XCTAssertEqual(h((0..<32).map { UInt8($0) }), 0xCBF5_9C51_16FF_32B4)
    XCTAssertEqual(h(thousand), 0xF306_F04A_A88B_54D3)
    XCTAssertEqual(h(thousand, seed: 7), 0xD602_8C10_F9F0_FBFB)
    XCTAssertEqual(ContentHash.hex(0xAB), "00000000000000ab")
  }
}

final class FileSystemTests: XCTestCase {
  func testFailuresSayWhatAndWhyInOneLine() throws {
    let dir = NSTemporaryDirectory() + "peerd-fs-\(UUID().uuidString)"
    try FileSystem.createDirectory(dir + "/a/b", for: "create the log directory")
    try FileSystem.createDirectory(dir + "/a/b", for: "create the log directory")  // exists: fine
    _ = FileManager.default.createFile(atPath: dir + "/file", contents: Data())
    XCTAssertThrowsError(try FileSystem.createDirectory(dir + "/file", for: "create the log directory")) {
      XCTAssertEqual(
        "\($0)", "\(dir)/file: cannot create the log directory: a file is in the way (a directory is needed)")
    }
    XCTAssertThrowsError(try FileSystem.createDirectory(dir + "/file/sub", for: "create the cache")) {
      XCTAssertEqual(($0 as? FileSystemError)?.reason, .notADirectory)
      XCTAssertEqual(($0 as? FileSystemError)?.path, dir + "/file")
    }
    XCTAssertThrowsError(try FileSystem.write([1], to: dir + "/missing/x.svg", for: "write the plot")) {
      XCTAssertEqual("\($0)", "\(dir)/missing/x.svg: cannot write the plot: no such file or directory")
    }
    try FileSystem.write([1, 2, 3], to: dir + "/a/x", for: "write")
    XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a/x"), Data([1, 2, 3]))
    try? FileManager.default.removeItem(atPath: dir)
  }
}
