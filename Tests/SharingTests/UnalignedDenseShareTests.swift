import Numerics
import XCTest

@testable import Sharing

/// A dense frame's NaN costs one value, wherever ZeroMQ put the frame in memory.
final class UnalignedDenseShareTests: XCTestCase {
  /// The same dense payload, decoded from a frame at an aligned and at an unaligned address:
  /// both are left unchecked for the Aggregator, which averages around the NaN the same way.
  /// (The copy made for an unaligned frame used to reject the whole frame instead.)
  func testUnalignedAndAlignedFramesAreAveragedAlike() throws {
    let n = 6
    var values = [Float](repeating: 3, count: n)
    values[2] = .nan
    var averaged: [[Float]] = []
    for offset in [64, 65] {
      let frame = SharedBytes(count: offset + 4 * n) { raw in
        raw.initializeMemory(as: UInt8.self, repeating: 0)
        values.withUnsafeBytes { (raw.baseAddress! + offset).copyMemory(from: $0.baseAddress!, byteCount: 4 * n) }
      }
      let share = try ShareCodec.decode(
        encoding: 1, payload: UnsafeRawBufferPointer(rebasing: frame.bytes[offset...]), elements: n, parameterCount: n,
        declaredParameterCount: n, backing: frame)
      XCTAssertFalse(share.valuesChecked, "offset \(offset)")
      let own = FloatBuffer([Float](repeating: 1, count: n))
      let report = Aggregator(parameterCount: n).average(own: own, selfWeight: 0.5, received: [(4, share, 0.5)])
      XCTAssertEqual(report.ignoredValues, [4: 1], "offset \(offset)")
      averaged.append(own.array)
    }
    XCTAssertEqual(averaged[0], averaged[1])
    XCTAssertEqual(averaged[0], [2, 2, 1, 2, 2, 2])
    // Without a frame behind it (not the runtime's path) a dense NaN is still an error.
    XCTAssertThrowsError(
      try values.withUnsafeBytes {
        try ShareCodec.decode(encoding: 1, payload: $0, elements: n, parameterCount: n, declaredParameterCount: n)
      })
  }
}
