import Numerics
import XCTest

@testable import Sharing

/// Bytes per message for the setting: LogisticRegression 784→10, P = 7850, on a
/// 4-regular graph, so a node sends four messages a round. The frame is the 64-byte header plus
/// the payload; the budgets per node per round are checked on four times that.
final class ByteBudgetTests: XCTestCase {
  static let p = 7850
  static let header = 64
  static let fullSharingRound = 4 * (64 + 4 * 7850)  // 125,856

  /// A logistic-regression-like step: the 10 rows of 784 weights change only off the image
  /// border (MNIST's border pixels are always 0, so their weights never move), biases always.
  static func trainedStep(from x: [Float], seed: UInt64) -> [Float] {
    var rng = Xoshiro256(seed: seed)
    var next = x
    for row in 0..<10 {
      for pixel in 0..<784 {
        let (r, c) = (pixel / 28, pixel % 28)
        if r >= 4 && r < 24 && c >= 4 && c < 24 { next[row * 784 + pixel] += rng.uniform(-0.01, 0.01) }
      }
    }
    for b in 7840..<7850 { next[b] += rng.uniform(-0.01, 0.01) }
    return next
  }

  private func message(_ name: String, configure: (inout SharingSettings) -> Void = { _ in }, rounds: Int = 3) throws
    -> (bytes: Int, data: Int, share: Share)
  {
    var s = SharingSettings(name: name, seed: 90, uid: 1)
    configure(&s)
    var x = randomVector(Self.p, seed: 1, scale: 0.05)
    let strategy = try SharingRegistry.make(s, initialModel: FloatBuffer(x))
    var last: Share?
    for round in 1...rounds {
      x = Self.trainedStep(from: x, seed: UInt64(round))
      let out = strategy.makeShares(of: FloatBuffer(x), round: round, recipients: [0, 2, 3, 4])
      XCTAssertEqual(out.count, 1, "\(name) round \(round): one frame for all four neighbours")
      last = out[0].share
      _ = strategy.average(own: FloatBuffer(x), selfWeight: 1, received: [], using: Aggregator(parameterCount: Self.p))
    }
    let share = try XCTUnwrap(last)
    let bytes = Self.header + ShareCodec.payloadSize(of: share)
    XCTAssertEqual(bytes, Self.header + share.metadataBytes + share.dataBytes)
    return (bytes, share.dataBytes, share)
  }

  func testFullSharing() throws {
    let m = try message("Sharing")
    XCTAssertEqual(m.bytes, 64 + 4 * Self.p)
    XCTAssertEqual(m.data, 4 * Self.p)
    XCTAssertEqual(4 * m.bytes, Self.fullSharingRound)
  }

  func testPartialModelAndTopKAtAlphaOneTenth() throws {
    for name in ["PartialModel", "TopK"] {
      let m = try message(name) { $0.alpha = 0.1 }
      let k = 785
      XCTAssertEqual(m.share.count, k)
      XCTAssertEqual(m.data, 4 * k)
      XCTAssertEqual(m.bytes, 64 + 1 + 1 + 4 + m.share.indexCode.bytes + 4 * k, name)
      XCTAssertLessThan(m.share.indexCode.bytes, k, "\(name): under a byte an index")
      XCTAssertLessThanOrEqual(4 * m.bytes, 16_000, "\(name): \(m.bytes) bytes a message")
    }
  }

  func testSubSamplingAtAlphaOneTenth() throws {
    let m = try message("SubSampling") { $0.alpha = 0.1 }
    XCTAssertEqual(m.bytes, 64 + 8 + 4 * 785)
    XCTAssertEqual(m.data, 4 * 785)
    XCTAssertLessThanOrEqual(4 * m.bytes, 12_900)
  }

  func testQuantizedDeltas() throws {
    for (bits, budget) in [(8, 0.27), (4, 0.14), (1, 0.05)] {
      let m = try message("Quantize") { $0.bits = bits }
      XCTAssertEqual(m.share.encoding, .quantized, "after the first contact's keyframe")
      let blocks = (Self.p + 255) / 256
      let codes = (Self.p * bits + 7) / 8
      XCTAssertEqual(m.data, 4 * blocks + codes)
      XCTAssertEqual(m.bytes, 64 + 10 + 5 + 4 * blocks + codes, "\(bits) bits")
      XCTAssertLessThanOrEqual(Double(4 * m.bytes), budget * Double(Self.fullSharingRound), "\(bits) bits: \(m.bytes)")
    }
    // TopK and 8 bits together: indices plus one byte a value.
    let sparse = try message("Quantize") {
      $0.bits = 8
      $0.alpha = 0.1
    }
    XCTAssertEqual(sparse.share.encoding, .sparseQuantized)
    XCTAssertEqual(sparse.bytes, 64 + 10 + 5 + sparse.share.indexCode.bytes + 5 + 4 * 4 + 785)
  }

  /// The one dense frame a CHOCO pair pays at first contact.
  func testKeyframeIsTheModelAsFloat32() throws {
    let m = try message("Quantize", configure: { $0.bits = 1 }, rounds: 1)
    XCTAssertEqual(m.share.encoding, .framedDense)
    XCTAssertEqual(m.bytes, 64 + 10 + 4 * Self.p)
  }
}
