import Numerics
import XCTest

@testable import Sharing

final class IndexCodingTests: XCTestCase {
  private func encode(_ indices: [UInt32]) -> (order: Int, bytes: [UInt8]) {
    indices.withUnsafeBufferPointer { idx in
      let plan = IndexCoding.plan(idx)
      var out = [UInt8](repeating: 0, count: plan.bytes)
      out.withUnsafeMutableBytes { IndexCoding.encode(idx, order: plan.order, into: $0) }
      return (plan.order, out)
    }
  }

  private func decode(_ bytes: [UInt8], order: Int, count: Int, n: Int) throws(IndexCodingError) -> [UInt32] {
    try bytes.withUnsafeBytes { raw in
      Result { () throws(IndexCodingError) in try IndexCoding.decode(raw, order: order, count: count, parameterCount: n)
      }
    }.get()
  }

  func testLosslessOnRandomSortedSetsOfEveryDensity() throws {
    for (trial, (n, density)) in [
      (1, 1.0), (10, 0.5), (7850, 0.001), (7850, 0.1), (7850, 0.9), (100_000, 0.01), (1 << 20, 0.3),
    ]
    .enumerated() {
      let count = max(1, Int(Double(n) * density))
      let indices = randomIndices(count, of: n, seed: UInt64(trial))
      let (order, bytes) = encode(indices)
      XCTAssertEqual(try decode(bytes, order: order, count: count, n: n), indices, "n \(n) density \(density)")
    }
  }

  func testEdgeIndicesAndHugeGaps() throws {
    let n = Int(UInt32.max)
    for indices: [UInt32] in [[0], [UInt32.max - 1], [0, UInt32.max - 1], [5, 6, 7, 1 << 31, UInt32.max - 2]] {
      let (order, bytes) = encode(indices)
      XCTAssertEqual(try decode(bytes, order: order, count: indices.count, n: n), indices)
    }
    // Every order the wire allows decodes what it encodes, even when it is not the best one.
    let indices = randomIndices(300, of: 5000, seed: 9)
    for order in 0...IndexCoding.maximumOrder {
      let bits = indices.withUnsafeBufferPointer { idx in
        var previous: Int64 = -1
        return idx.reduce(0) { total, i in
          defer { previous = Int64(i) }
          return total + IndexCoding.codeLength(UInt64(Int64(i) - previous - 1), order: order)
        }
      }
      var out = [UInt8](repeating: 0, count: (bits + 7) / 8)
      indices.withUnsafeBufferPointer { idx in
        out.withUnsafeMutableBytes { IndexCoding.encode(idx, order: order, into: $0) }
      }
      XCTAssertEqual(try decode(out, order: order, count: 300, n: 5000), indices, "order \(order)")
    }
  }

  /// The bound: below one byte an index at density 0.1, uniform or clustered.
  func testBelowOneBytePerIndexAtDensityOneTenth() {
    let n = 7850
    let uniform = randomIndices(785, of: n, seed: 1)
    let uniformBytes = encode(uniform).bytes.count
    XCTAssertLessThan(Double(uniformBytes) / 785, 0.7, "uniform: \(uniformBytes) bytes")
    // Clustered like top-k of a logistic regression: central pixels of each of the ten rows.
    var clustered: [UInt32] = []
    for row in 0..<10 {
      for pixel in stride(from: 300, to: 500, by: 3) where clustered.count < 785 {
        clustered.append(UInt32(row * 784 + pixel))
      }
    }
    let clusteredBytes = encode(clustered).bytes.count
    XCTAssertLessThan(Double(clusteredBytes) / Double(clustered.count), 1, "clustered: \(clusteredBytes) bytes")
  }

  func testEveryTruncationAndCorruptionIsATypedError() {
    let indices = randomIndices(200, of: 3000, seed: 4)
    let (order, bytes) = encode(indices)
    for cut in 0..<bytes.count {
      XCTAssertThrowsError(try decode(Array(bytes[0..<cut]), order: order, count: 200, n: 3000), "cut \(cut)")
    }
    XCTAssertThrowsError(try decode(bytes + [0], order: order, count: 200, n: 3000)) {
      XCTAssertEqual($0 as? IndexCodingError, .trailingBits)
    }
    XCTAssertThrowsError(try decode(bytes, order: order, count: 199, n: 3000)) {
      XCTAssertEqual($0 as? IndexCodingError, .trailingBits)
    }
    XCTAssertThrowsError(try decode(bytes, order: order, count: 200, n: Int(indices.last!))) {
      guard case .indexOutOfRange = $0 as? IndexCodingError else { return XCTFail("\($0)") }
    }
    XCTAssertThrowsError(try decode(bytes, order: 31, count: 200, n: 3000)) {
      XCTAssertEqual($0 as? IndexCodingError, .badOrder(31))
    }
    // All zeros: a zero run longer than any u32 gap.
    XCTAssertThrowsError(try decode([UInt8](repeating: 0, count: 40), order: 0, count: 2, n: 3000)) {
      XCTAssertEqual($0 as? IndexCodingError, .truncated(decoded: 0))
    }
    // A count that the stream cannot hold is refused before anything is allocated.
    XCTAssertThrowsError(try decode([0xFF], order: 0, count: 1 << 40, n: Int.max)) {
      XCTAssertEqual($0 as? IndexCodingError, .truncated(decoded: 0))
    }
    XCTAssertEqual(try decode([], order: 0, count: 0, n: 10), [])
    XCTAssertThrowsError(try decode([0x80], order: 0, count: 0, n: 10))
  }
}
