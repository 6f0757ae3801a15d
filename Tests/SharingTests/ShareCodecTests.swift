import Numerics
import XCTest

@testable import Sharing

final class ShareCodecTests: XCTestCase {
  static let n = 1000

  /// One share of every layout this build sends, plus compressed variants.
  static func everyLayout() -> [Share] {
    let n = Self.n
    let values = randomVector(n, seed: 1)
    let picked = randomIndices(100, of: n, seed: 2)
    let pickedValues = picked.map { values[Int($0)] }
    var scales: [Float] = []
    var codes: [UInt8] = []
    let tag = PublicCopyTag(base: 7, sequence: 9, keyframe: false, resend: [3, 11])
    var shares: [Share] = [
      Share(dense: values),
      Share(
        seed: 5, indices: SeededMask.indices(seed: 5, count: 100, parameterCount: n), values: pickedValues,
        parameterCount: n),
      Share(indices: picked, values: pickedValues, parameterCount: n),
      Share(dense: values).tagged(PublicCopyTag(base: 0, sequence: 4, keyframe: true)),
      Share(indices: picked, values: pickedValues, parameterCount: n).tagged(tag),
      Share(indices: [], values: [], parameterCount: n),
    ]
    for bits in QuantizedValues.supportedBits {
      for blockSize in [1, 7, 256, 4096] {
        let dense = QuantizedValues.quantize(count: n, bits: bits, blockSize: blockSize, scales: &scales, codes: &codes)
        {
          values[$0]
        }
        shares.append(Share(quantized: dense, indices: nil, parameterCount: n, publicCopy: tag))
        let sparse = QuantizedValues.quantize(
          count: 100, bits: bits, blockSize: blockSize, scales: &scales, codes: &codes
        ) {
          pickedValues[$0]
        }
        shares.append(Share(quantized: sparse, indices: picked, parameterCount: n, publicCopy: tag))
      }
    }
    // Compressed: zstd only keeps what it shrinks, so give it something compressible.
    let compressible = (0..<n).map { Float($0 % 10) }
    let compressor = ZstdCompressor()
    for var share in [
      Share(dense: compressible), Share(indices: picked, values: picked.map { Float($0 % 3) }, parameterCount: n),
      Share(
        seed: 5, indices: SeededMask.indices(seed: 5, count: 100, parameterCount: n),
        values: [Float](repeating: 1, count: 100), parameterCount: n),
      Share(
        quantized: QuantizedValues.quantize(count: n, bits: 8, blockSize: 64, scales: &scales, codes: &codes) {
          compressible[$0]
        }, indices: nil, parameterCount: n, publicCopy: tag),
    ] {
      share.compressValues(with: compressor)
      XCTAssertNotNil(share.compressedValues, "\(share.encoding) did not compress")
      shares.append(share)
    }
    return shares
  }

  func testEveryLayoutRoundTrips() throws {
    let shares = Self.everyLayout()
    XCTAssertEqual(
      Set(shares.map(\.encoding)), Set(ShareEncoding.allCases).subtracting([.indexed]), "a layout is not covered")
    for share in shares { try assertRoundTrip(share) }
  }

  func testDenseIsLittleEndianFloat32AndLegacyPairsDecode() throws {
    let bytes = ShareCodec.encode(Share(dense: [1, -2.5, 3e-7, 0]))
    XCTAssertEqual(bytes.count, 16)
    XCTAssertEqual(Array(bytes[0..<4]), [0x00, 0x00, 0x80, 0x3F])
    // Encoding 2 from an older peer: (u32 index, f32 value) pairs.
    let pairs: [UInt8] = [0, 0, 0, 0, 0, 0, 0x80, 0x3F, 5, 0, 0, 0, 0, 0, 0, 0x40]
    let share = try decode(pairs, encoding: 2, elements: 2, parameterCount: 10)
    XCTAssertEqual(share, Share(indices: [0, 5], values: [1, 2], parameterCount: 10))
    XCTAssertThrowsError(try decode(Array(pairs[0..<8]) + pairs[0..<8], encoding: 2, elements: 2, parameterCount: 10)) {
      XCTAssertEqual($0 as? ShareDecodingError, .indicesNotIncreasing(position: 1))
    }
  }

  /// Every prefix of every layout is refused with a typed error, never a crash or a read past
  /// the end (AddressSanitizer runs would catch one).
  func testEveryTruncationIsRefused() {
    for share in Self.everyLayout() {
      let bytes = ShareCodec.encode(share)
      for cut in 0..<bytes.count {
        XCTAssertNotNil(decodingError(Array(bytes[0..<cut]), like: share), "\(share.encoding): prefix \(cut) accepted")
      }
      XCTAssertNotNil(decodingError(bytes + [0], like: share), "\(share.encoding): a trailing byte accepted")
    }
  }

  /// Every length or count field, set to each of a few wrong values, is refused. (Fields that
  /// are not lengths, such as the Exp-Golomb order or the block size, can change into another
  /// valid payload: the protocol has no checksum, TCP has one.)
  func testCorruptedLengthsAndCountsAreRefused() throws {
    for share in Self.everyLayout() {
      let bytes = ShareCodec.encode(share)
      for (offset, width) in lengthFields(of: share) {
        for wrong: UInt32 in [0, 1, UInt32.max, UInt32(bytes.count), original(bytes, offset, width) &+ 1] {
          var corrupt = bytes
          for k in 0..<width { corrupt[offset + k] = UInt8(truncatingIfNeeded: wrong >> (8 * UInt32(k))) }
          guard corrupt != bytes else { continue }
          XCTAssertNotNil(decodingError(corrupt, like: share), "\(share.encoding): field at \(offset) = \(wrong)")
        }
      }
      // The header's element count, off by one either way.
      for elements in [share.count - 1, share.count + 1] where elements >= 0 {
        XCTAssertThrowsError(
          try decode(
            bytes, encoding: share.encoding.rawValue, elements: elements, parameterCount: share.parameterCount),
          "\(share.encoding) with \(elements) elements")
      }
    }
  }

  private func original(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> UInt32 {
    (0..<width).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
  }

  /// (offset, width) of the count and length fields of a framed payload.
  private func lengthFields(of share: Share) -> [(Int, Int)] {
    guard share.encoding.rawValue >= 4 else { return [] }
    var fields: [(Int, Int)] = []
    var offset = 1
    if let tag = share.publicCopy {
      fields.append((offset + 8, 1))  // resend count
      offset += 9 + 4 * tag.resend.count
    }
    if share.encoding == .sparse || share.encoding == .sparseQuantized {
      fields.append((offset + 1, 4))  // stream length
      offset += 5 + share.indexCode.bytes
    }
    if share.quantizedValues != nil { offset += 5 }
    if share.encoding == .framedSeeded { offset += 8 }
    if share.compressedValues != nil { fields.append((offset, 4)) }
    return fields
  }

  func testMalformedContentIsRefusedWithItsOwnError() throws {
    let dense = ShareCodec.encode(Share(dense: [1, 2, 3]))
    XCTAssertThrowsError(try decode(dense, encoding: 1, elements: 3, parameterCount: 2)) {
      XCTAssertEqual($0 as? ShareDecodingError, .elementCountMismatch(encoding: .dense, elements: 3, parameterCount: 2))
    }
    XCTAssertThrowsError(try decode(dense, encoding: 99, elements: 3, parameterCount: 3)) {
      XCTAssertEqual($0 as? ShareDecodingError, .unsupportedEncoding(99))
    }
    var nan = dense
    nan.replaceSubrange(4..<8, with: [0x00, 0x00, 0xC0, 0x7F])
    XCTAssertThrowsError(try decode(nan, encoding: 1, elements: 3, parameterCount: 3)) {
      XCTAssertEqual($0 as? ShareDecodingError, .nonFiniteValue(position: 1))
    }
    let sparse = Share(indices: [1, 4], values: [1, 2], parameterCount: 10)
    var sparseNaN = ShareCodec.encode(sparse)
    sparseNaN.replaceSubrange((sparseNaN.count - 4)..<sparseNaN.count, with: [0, 0, 0x80, 0x7F])
    XCTAssertEqual(decodingError(sparseNaN, like: sparse), .nonFiniteValue(position: 1))
    var flags = ShareCodec.encode(sparse)
    flags[0] = 0x10
    XCTAssertEqual(decodingError(flags, like: sparse), .unknownFlags(0x10))
    flags[0] = ShareCodec.Flag.keyframe
    XCTAssertEqual(decodingError(flags, like: sparse), .unknownFlags(ShareCodec.Flag.keyframe))
    var scales: [Float] = []
    var codes: [UInt8] = []
    let q = Share(
      quantized: QuantizedValues.quantize(count: 9, bits: 4, blockSize: 4, scales: &scales, codes: &codes) {
        Float($0)
      },
      indices: nil, parameterCount: 9, publicCopy: PublicCopyTag(base: 1, sequence: 2, keyframe: false))
    var badBits = ShareCodec.encode(q)
    badBits[10] = 3
    XCTAssertEqual(decodingError(badBits, like: q), .unsupportedQuantization(bits: 3, blockSize: 4))
    var badScale = ShareCodec.encode(q)
    badScale.replaceSubrange(15..<19, with: [0, 0, 0x80, 0xFF])  // -infinity
    XCTAssertEqual(decodingError(badScale, like: q), .badQuantizedValues(.badScale(block: 0)))
    var padding = ShareCodec.encode(q)
    padding[padding.count - 1] |= 0xF0  // the unused high nibble after the ninth code
    XCTAssertEqual(decodingError(padding, like: q), .badQuantizedValues(.nonZeroPadding))
  }
}
