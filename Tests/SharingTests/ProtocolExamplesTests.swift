import Foundation
import Numerics
import XCTest

@testable import Sharing

/// docs/protocol.md §4.8 is a contract: each hex block is what the encoder writes for the share
/// the text describes, and decodes back to it.
final class ProtocolExamplesTests: XCTestCase {
  static let docPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("docs/protocol.md").path

  func examples() throws -> [[UInt8]] {
    let text = try String(contentsOfFile: Self.docPath, encoding: .utf8)
    let after = try XCTUnwrap(text.components(separatedBy: "### 4.8 Examples").last)
    let section = try XCTUnwrap(after.components(separatedBy: "\n## 5.").first)
    return section.components(separatedBy: "```").enumerated().filter { $0.offset % 2 == 1 }.map { block in
      block.element.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt8($0, radix: 16) }
    }
  }

  func testEveryExampleIsWhatTheCodecWrites() throws {
    let blocks = try examples()
    XCTAssertEqual(blocks.count, 7)
    var scales: [Float] = []
    var codes: [UInt8] = []
    let seeded = SeededMask.indices(seed: 0x0102_0304_0506_0708, count: 3, parameterCount: 10)
    XCTAssertEqual(seeded, [2, 3, 6], "the indices the text gives")
    let eightBit: [Float] = [0.5, -1, 0.25, 0]
    let small: [Float] = [0.3, -0.1, 0.2]
    let shares: [Share] = [
      Share(indices: [1, 4, 5], values: [1, -2, 0.5], parameterCount: 10),
      Share(seed: 0x0102_0304_0506_0708, indices: seeded, values: [1, 2, 3], parameterCount: 10),
      Share(
        quantized: QuantizedValues.quantize(count: 4, bits: 8, blockSize: 2, scales: &scales, codes: &codes) {
          eightBit[$0]
        }, indices: nil, parameterCount: 4,
        publicCopy: PublicCopyTag(base: 7, sequence: 8, keyframe: false, resend: [3])
      ),
      Share(
        quantized: QuantizedValues.quantize(count: 3, bits: 4, blockSize: 256, scales: &scales, codes: &codes) {
          small[$0]
        }, indices: nil, parameterCount: 3, publicCopy: PublicCopyTag(base: 1, sequence: 2, keyframe: false)),
      Share(
        quantized: QuantizedValues.quantize(count: 3, bits: 1, blockSize: 256, scales: &scales, codes: &codes) {
          small[$0]
        }, indices: [0, 3, 9], parameterCount: 16, publicCopy: PublicCopyTag(base: 8, sequence: 9, keyframe: false)),
      Share(dense: [1, 2]).tagged(PublicCopyTag(base: 0, sequence: 5, keyframe: true)),
    ]
    for (n, share) in shares.enumerated() {
      XCTAssertEqual(ShareCodec.encode(share), blocks[n], "example \(n + 1) (\(share.encoding))")
      XCTAssertEqual(try decode(blocks[n], like: share), share, "example \(n + 1) decodes back")
    }
    // Encoding 8 with no flag: the seed+values example behind a zero flags byte.
    XCTAssertEqual(blocks[6], [0] + blocks[1])
    let framed = try decode(blocks[6], encoding: ShareEncoding.framedSeeded.rawValue, elements: 3, parameterCount: 10)
    XCTAssertEqual(framed.indices, [2, 3, 6])
    XCTAssertEqual(framed.values, [1, 2, 3])
  }
}
