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

  /// The blocked single pass over a vector of several blocks and a tail equals the plain
  /// weighted sum, for owned and frame-borrowed shares, and rescales when weights miss one.
  func testBlockedDenseAverageOverManyBlocks() {
    let n = 3 * Aggregator.block + 17
    var rng = Xoshiro256(seed: 3)
    let mine = (0..<n).map { _ in rng.uniform(-1, 1) }
    let theirs = (0..<2).map { _ in (0..<n).map { _ in rng.uniform(-1, 1) } }
    // The second share is read in place from a frame with a 64-byte header, as peerd receives it.
    let frame = SharedBytes(count: 64 + n * 4) { raw in
      raw.initializeMemory(as: UInt8.self, repeating: 0)
      theirs[1].withUnsafeBytes { (raw.baseAddress! + 64).copyMemory(from: $0.baseAddress!, byteCount: n * 4) }
    }
    for (weights, scale) in [([0.5, 0.25, 0.25], 1.0), ([0.2, 0.2, 0.1], 1 / 0.5)] {
      let own = FloatBuffer(mine)
      let agg = Aggregator(parameterCount: n)
      agg.begin(own: own, selfWeight: weights[0])
      agg.add(Share(dense: theirs[0]), weight: weights[1])
      agg.add(Share(denseBorrowing: frame, offset: 64, count: n), weight: weights[2])
      agg.finish(into: own)
      for i in stride(from: 0, to: n, by: 97) + [n - 1] {
        let expected =
          (weights[0] * Double(mine[i]) + weights[1] * Double(theirs[0][i]) + weights[2] * Double(theirs[1][i]))
          * scale
        XCTAssertEqual(Double(own[i]), expected, accuracy: 1e-5, "element \(i)")
      }
    }
  }

  /// A dense share decoded with its frame as backing keeps its values in the frame, unchecked;
  /// the aggregator then leaves out each NaN or infinity for its own parameter only.
  func testBorrowedShareWithNonFiniteValuesIsAveragedAroundThem() throws {
    let n = 2 * Aggregator.block + 5
    var values = [Float](repeating: 3, count: n)
    values[7] = .nan
    values[Aggregator.block + 1] = .infinity
    let frame = SharedBytes(count: 64 + n * 4) { raw in
      raw.initializeMemory(as: UInt8.self, repeating: 0)
      values.withUnsafeBytes { (raw.baseAddress! + 64).copyMemory(from: $0.baseAddress!, byteCount: n * 4) }
    }
    let share = try ShareCodec.decode(
      encoding: 1, payload: UnsafeRawBufferPointer(rebasing: frame.bytes[64...]), elements: n, parameterCount: n,
      declaredParameterCount: n, backing: frame)
    XCTAssertFalse(share.valuesChecked, "borrowed shares are checked while averaging, not at decode")
    share.withUnsafeValues { XCTAssertEqual($0.baseAddress.map(UnsafeRawPointer.init), frame.base + 64) }
    let own = FloatBuffer([Float](repeating: 1, count: n))
    let agg = Aggregator(parameterCount: n)
    agg.begin(own: own, selfWeight: 0.5)
    agg.add(Share(dense: [Float](repeating: 5, count: n)), weight: 0.25)
    agg.add(share, weight: 0.25)
    agg.finish(into: own)
    XCTAssertEqual(agg.ignoredValues, [0, 2])
    XCTAssertEqual(own[0], 0.5 + 1.25 + 0.75)
    XCTAssertEqual(own[n - 1], 0.5 + 1.25 + 0.75)
    // Without the bad value: (0.5·1 + 0.25·5) / 0.75.
    XCTAssertEqual(own[7], 1.75 / 0.75, accuracy: 1e-6)
    XCTAssertEqual(own[Aggregator.block + 1], 1.75 / 0.75, accuracy: 1e-6)
    XCTAssertTrue(own.array.allSatisfy(\.isFinite))
  }

  /// Dense shares collected before a partial one are folded in before the partial one lands.
  func testDenseThenPartialShares() {
    let own = FloatBuffer([1, 1, 1])
    let agg = Aggregator(parameterCount: 3)
    agg.begin(own: own, selfWeight: 0.5)
    agg.add(Share(dense: [3, 3, 3]), weight: 0.25)
    agg.add(Share(indexed: [2], values: [9], parameterCount: 3), weight: 0.25)
    agg.finish(into: own)
    // p0, p1: (0.5 + 0.75)/0.75; p2: (0.5 + 0.75 + 2.25)/1.
    XCTAssertEqual(own[0], 1.25 / 0.75, accuracy: 1e-6)
    XCTAssertEqual(own[1], 1.25 / 0.75, accuracy: 1e-6)
    XCTAssertEqual(own[2], 3.5, accuracy: 1e-6)
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
