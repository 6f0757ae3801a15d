import Numerics
import XCTest

@testable import Sharing

final class ShareCodecTests: XCTestCase {
  func testDenseRoundTrip() throws {
    let share = Share(dense: [1, -2.5, 3e-7, 0])
    let bytes = ShareCodec.encode(share)
    XCTAssertEqual(bytes.count, 16)
    // Little-endian float32 of 1.0 is 00 00 80 3F.
    XCTAssertEqual(Array(bytes[0..<4]), [0x00, 0x00, 0x80, 0x3F])
    let back = try bytes.withUnsafeBytes {
      try ShareCodec.decode(encoding: 1, payload: $0, elements: 4, parameterCount: 4, declaredParameterCount: 4)
    }
    XCTAssertEqual(back, share)
  }

  func testIndexedRoundTripAndMetadataBytes() throws {
    let share = Share(indexed: [0, 5, 9], values: [1, 2, 3], parameterCount: 10)
    XCTAssertEqual(share.dataBytes, 12)
    XCTAssertEqual(share.metadataBytes, 12)
    let bytes = ShareCodec.encode(share)
    let back = try bytes.withUnsafeBytes {
      try ShareCodec.decode(encoding: 2, payload: $0, elements: 3, parameterCount: 10, declaredParameterCount: 10)
    }
    XCTAssertEqual(back, share)
  }

  func testMalformedPayloadsAreRejected() {
    let dense = ShareCodec.encode(Share(dense: [1, 2, 3]))
    func decode(_ bytes: [UInt8], _ enc: UInt8, _ n: Int, params: Int = 3, declared: Int = 3) -> ShareDecodingError? {
      do {
        _ = try bytes.withUnsafeBytes {
          try ShareCodec.decode(
            encoding: enc, payload: $0, elements: n, parameterCount: params, declaredParameterCount: declared)
        }
        return nil
      } catch { return error as? ShareDecodingError }
    }
    // Every truncation fails.
    for cut in 0..<dense.count {
      XCTAssertNotNil(decode(Array(dense[0..<cut]), 1, 3), "prefix \(cut) accepted")
    }
    XCTAssertEqual(decode(dense, 9, 3), .unsupportedEncoding(9))
    XCTAssertEqual(decode(dense, 1, 3, params: 3, declared: 4), .parameterCountMismatch(expected: 3, got: 4))
    XCTAssertNotNil(decode(dense, 1, 2))
    var nan = dense
    nan.replaceSubrange(4..<8, with: [0x00, 0x00, 0xC0, 0x7F])
    XCTAssertEqual(decode(nan, 1, 3), .nonFiniteValue(position: 1))
    let outOfRange = ShareCodec.encode(Share(indexed: [7], values: [1], parameterCount: 10))
    XCTAssertEqual(decode(outOfRange, 2, 1, params: 3, declared: 3), .indexOutOfRange(index: 7, parameterCount: 3))
    let unordered = ShareCodec.encode(Share(indexed: [2, 1], values: [1, 1], parameterCount: 3))
    XCTAssertEqual(decode(unordered, 2, 2), .indicesNotIncreasing(position: 1))
    let seeded = ShareCodec.encode(Share(seed: 4, indices: [0], values: [1], parameterCount: 3))
    XCTAssertEqual(decode(seeded, 3, 1), .seedRegenerationFailed)
  }
}

final class AggregatorTests: XCTestCase {
  func testDenseWeightedAverage() {
    let own = FloatBuffer([1, 1, 1])
    let agg = Aggregator(parameterCount: 3)
    agg.begin(own: own, selfWeight: 0.5)
    agg.add(Share(dense: [3, 3, 3]), weight: 0.25)
    agg.add(Share(dense: [5, 7, 9]), weight: 0.25)
    agg.finish(into: own)
    XCTAssertEqual(own.array, [2.5, 3, 3.5])
  }

  /// A parameter nobody sent keeps its local value; the others renormalise over their senders.
  func testPartialSharesRenormalisePerParameter() {
    let own = FloatBuffer([1, 1, 1, 1])
    let agg = Aggregator(parameterCount: 4)
    agg.begin(own: own, selfWeight: 0.5)
    agg.add(Share(indexed: [0, 1], values: [3, 3], parameterCount: 4), weight: 0.25)
    agg.add(Share(indexed: [1, 2], values: [5, 5], parameterCount: 4), weight: 0.25)
    agg.finish(into: own)
    // p0: (0.5·1 + 0.25·3)/0.75; p1: (0.5 + 0.75 + 1.25)/1; p2: (0.5 + 1.25)/0.75; p3: untouched.
    XCTAssertEqual(own[0], 1.25 / 0.75, accuracy: 1e-6)
    XCTAssertEqual(own[1], 2.5, accuracy: 1e-6)
    XCTAssertEqual(own[2], 1.75 / 0.75, accuracy: 1e-6)
    XCTAssertEqual(own[3], 1)
  }

  func testFullSharingSharesEverything() throws {
    let strategy = try SharingRegistry.make(SharingSettings(name: "Sharing"))
    let share = strategy.makeShare(of: FloatBuffer([1, 2]), round: 1)
    XCTAssertEqual(share, Share(dense: [1, 2]))
    XCTAssertThrowsError(try SharingRegistry.make(SharingSettings(name: "Nope"))) { error in
      XCTAssertTrue("\(error)".contains("supported: Sharing"))
    }
  }
}
