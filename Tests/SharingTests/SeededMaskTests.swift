import Numerics
import XCTest

@testable import Sharing

final class SubSamplingTests: XCTestCase {
  func testMaskHasExactlyTheCountSortedAndRepeatable() {
    let mask = SeededMask.indices(seed: 42, count: 785, parameterCount: 7850)
    XCTAssertEqual(mask.count, 785)
    XCTAssertEqual(mask, mask.sorted())
    XCTAssertEqual(Set(mask).count, 785)
    XCTAssertLessThan(mask.last!, 7850)
    XCTAssertEqual(SeededMask.indices(seed: 42, count: 785, parameterCount: 7850), mask)
    XCTAssertNotEqual(SeededMask.indices(seed: 43, count: 785, parameterCount: 7850), mask)
    XCTAssertEqual(SeededMask.indices(seed: 1, count: 10, parameterCount: 10), Array(0..<10))
    XCTAssertEqual(SeededMask.indices(seed: 1, count: 0, parameterCount: 10), [])
  }

  /// Every parameter is as likely to be drawn: over many seeds each decile of the vector gets
  /// its tenth of the draws.
  func testMaskIsUniform() {
    var perDecile = [Int](repeating: 0, count: 10)
    for seed in 0..<200 {
      for i in SeededMask.indices(seed: UInt64(seed), count: 100, parameterCount: 1000) { perDecile[Int(i) / 100] += 1 }
    }
    for count in perDecile { XCTAssertEqual(Double(count), 2000, accuracy: 200) }
  }

  /// The receiver rebuilds the sender's mask from the seed in the frame alone.
  func testReceiverRebuildsTheSendersMaskFromTheSeed() throws {
    let n = 7850
    let model = FloatBuffer(randomVector(n, seed: 5))
    let sender = try SubSampling(settings("SubSampling", alpha: 0.1, seed: 90, uid: 3), parameterCount: n)
    let share = try XCTUnwrap(sender.makeShares(of: model, round: 4, recipients: [1, 2]).first)
    XCTAssertEqual(share.recipients, [1, 2])
    XCTAssertEqual(share.share.encoding, .seeded)
    XCTAssertEqual(share.share.count, 785)
    let bytes = ShareCodec.encode(share.share)
    XCTAssertEqual(bytes.count, 8 + 4 * 785, "the frame carries the seed, not the indices")
    let received = try decode(bytes, like: share.share)
    XCTAssertEqual(received.indices, share.share.indices)
    guard case .seeded(let seed, _) = received.selection else { return XCTFail("not seeded") }
    XCTAssertEqual(seed, sender.seed(forRound: 4))
    for (k, i) in received.indices.enumerated() { XCTAssertEqual(received.values[k], model[Int(i)]) }
  }

  func testMasksAreRepeatableFromTheRunSeedAndDifferPerNodeAndRound() throws {
    let n = 1000
    let model = FloatBuffer(randomVector(n, seed: 1))
    func mask(seed: UInt64, uid: Int, round: Int) throws -> [UInt32] {
      let s = try SubSampling(settings("SubSampling", alpha: 0.2, seed: seed, uid: uid), parameterCount: n)
      return s.makeShares(of: model, round: round, recipients: [0])[0].share.indices
    }
    XCTAssertEqual(try mask(seed: 90, uid: 1, round: 3), try mask(seed: 90, uid: 1, round: 3))
    XCTAssertNotEqual(try mask(seed: 90, uid: 1, round: 3), try mask(seed: 90, uid: 1, round: 4))
    XCTAssertNotEqual(try mask(seed: 90, uid: 1, round: 3), try mask(seed: 90, uid: 2, round: 3))
    XCTAssertNotEqual(try mask(seed: 90, uid: 1, round: 3), try mask(seed: 91, uid: 1, round: 3))
  }

  /// decentralizepy's SubSampling sends the whole model only above metadata_cap.
  func testMetadataCapIsStrict() throws {
    let model = FloatBuffer(randomVector(100, seed: 2))
    var s = settings("SubSampling", alpha: 0.5)
    s.metadataCap = 0.5
    let atCap = try SubSampling(s, parameterCount: 100).makeShares(of: model, round: 1, recipients: [1])[0].share
    XCTAssertEqual(atCap.encoding, .seeded)
    s.metadataCap = 0.4
    let above = try SubSampling(s, parameterCount: 100).makeShares(of: model, round: 1, recipients: [1])[0].share
    XCTAssertEqual(above, Share(dense: model.array))
  }
}

extension SubSamplingTests {
  /// The mask generator the protocol names is xoshiro256** seeded by SplitMix64, as in Numerics.
  func testMaskGeneratorIsXoshiro256() {
    for seed: UInt64 in [0, 1, 42, .max] {
      var ours = MaskGenerator(seed: seed)
      var reference = Xoshiro256(seed: seed)
      for _ in 0..<100 { XCTAssertEqual(ours.next(), reference.next()) }
    }
  }
}
