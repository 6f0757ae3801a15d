import Numerics
import XCTest

@testable import Sharing

final class PartialModelTests: XCTestCase {
  private func partial(
    _ initial: [Float], alpha: Double, accumulation: Bool = false, onTop: Bool = false, cap: Double = 1
  ) throws -> PartialModel {
    var s = settings("PartialModel", alpha: alpha)
    s.accumulation = accumulation
    s.accumulateAveragingChanges = onTop
    s.metadataCap = cap
    return try PartialModel(s, initialModel: FloatBuffer(initial))
  }

  private func share(_ p: PartialModel, _ x: [Float], round: Int = 1) -> Share {
    let out = p.makeShares(of: FloatBuffer(x), round: round, recipients: [4, 2])
    XCTAssertEqual(out.count, 1)
    XCTAssertEqual(out[0].recipients, [4, 2])
    return out[0].share
  }

  /// alpha = 0.3 of ten parameters: the three that moved most from the initial model, with
  /// their current values, in index order.
  func testPicksExactlyTheTopAlphaChanges() throws {
    let initial: [Float] = [0, 1, 0, 0, 0, 0, 2, 0, 0, 0]
    let x: [Float] = [0.1, 0.1, 0.3, 0.5, -0.2, 0, 2.8, -0.4, 0.05, 0.6]
    // |change| = 0.1 0.9 0.3 0.5 0.2 0 0.8 0.4 0.05 0.6 → top three: 1, 6, 9.
    let s = share(try partial(initial, alpha: 0.3), x)
    XCTAssertEqual(s.encoding, .sparse)
    XCTAssertEqual(s.indices, [1, 6, 9])
    XCTAssertEqual(s.values, [0.1, 2.8, 0.6])
    try assertRoundTrip(s)
  }

  /// Ties at the cutoff are broken by index, and k is alpha·P rounded half to even (Python's round).
  func testTiesAndRounding() throws {
    let s = share(try partial([Float](repeating: 0, count: 5), alpha: 0.5), [1, 2, 2, 2, 0])
    XCTAssertEqual(s.indices, [1, 2], "round(2.5) = 2, the first of the tied 2s")
  }

  /// With accumulation the change adds up over rounds and is reset only where shared.
  func testAccumulationResetsOnlyTheSharedEntries() throws {
    let p = try partial([Float](repeating: 0, count: 6), alpha: 0.34, accumulation: true)  // k = 2
    let x1: [Float] = [0.5, 0.1, -0.3, 0.2, 0, 0.05]
    XCTAssertEqual(share(p, x1).indices, [0, 2])
    XCTAssertEqual(p.accumulated!.array, [0, 0.1, 0, 0.2, 0, 0.05], "only the shared entries were reset")
    _ = p.average(own: FloatBuffer(x1), selfWeight: 1, received: [], using: Aggregator(parameterCount: 6))
    let x2: [Float] = [0.5, 0.25, -0.3, 0.2, 0.25, 0.05]
    XCTAssertEqual(share(p, x2, round: 2).indices, [1, 4])
    XCTAssertEqual(p.accumulated![3], 0.2)
    _ = p.average(own: FloatBuffer(x2), selfWeight: 1, received: [], using: Aggregator(parameterCount: 6))
    // This round moves only p5, by 0.01; the accumulated 0.2 of p3 still ranks first.
    var x3 = x2
    x3[5] += 0.01
    XCTAssertEqual(share(p, x3, round: 3).indices, [3, 5])
    // Without accumulation, only this round's change counts: p5, then the first zero change.
    let plain = try partial([Float](repeating: 0, count: 6), alpha: 0.34)
    _ = plain.average(own: FloatBuffer(x2), selfWeight: 1, received: [], using: Aggregator(parameterCount: 6))
    XCTAssertEqual(share(plain, x3).indices, [0, 5])
  }

  /// accumulate_averaging_changes: what averaging moved is ranked too.
  func testAccumulateAveragingChanges() throws {
    for (onTop, expected) in [(true, [UInt32(2)]), (false, [3])] {
      let p = try partial([0, 0, 0, 0], alpha: 0.25, accumulation: true, onTop: onTop)
      let x1: [Float] = [0.3, 0.1, 0, 0]
      XCTAssertEqual(share(p, x1).indices, [0])
      // Averaging with a neighbour moves p2 to 0.5.
      let own = FloatBuffer(x1)
      _ = p.average(
        own: own, selfWeight: 0.5, received: [(1, Share(dense: [0.3, 0.1, 1, 0]), 0.5)],
        using: Aggregator(parameterCount: 4))
      XCTAssertEqual(own.array, [0.3, 0.1, 0.5, 0])
      var x2 = own.array
      x2[3] += 0.2
      XCTAssertEqual(share(p, x2, round: 2).indices, expected, "accumulate_averaging_changes = \(onTop)")
    }
  }

  /// alpha ≥ metadata_cap sends the whole model and clears the accumulator.
  func testMetadataCapSendsTheWholeModel() throws {
    let p = try partial([0, 0, 0, 0], alpha: 0.5, accumulation: true, cap: 0.5)
    let s = share(p, [1, 2, 3, 4])
    XCTAssertEqual(s, Share(dense: [1, 2, 3, 4]))
    XCTAssertEqual(p.accumulated!.array, [0, 0, 0, 0])
    XCTAssertEqual(share(try partial([0, 0], alpha: 1), [1, 2]).encoding, .dense)
  }

  /// RandomAlpha: each round's alpha comes from the list through the seeded sharing stream.
  func testRandomAlphaDrawsFromTheListRepeatably() throws {
    let list = [0.1, 0.2, 0.5, 1.0]
    var s = settings("RandomAlpha", seed: 90, uid: 3)
    s.alphaList = list
    let model = FloatBuffer(randomVector(1000, seed: 1))
    let a = try SharingRegistry.make(s, initialModel: model) as! PartialModel
    let b = try SharingRegistry.make(s, initialModel: model) as! PartialModel
    XCTAssertEqual(a.name, "RandomAlpha")
    var seen = Set<Double>()
    for round in 1...60 {
      let alpha = a.alpha(forRound: round)
      XCTAssertEqual(alpha, b.alpha(forRound: round))
      XCTAssertTrue(list.contains(alpha))
      seen.insert(alpha)
      let shared = a.makeShares(of: model, round: round, recipients: [0])[0].share
      XCTAssertEqual(shared.count, alpha == 1 ? 1000 : Int((alpha * 1000).rounded(.toNearestOrEven)))
    }
    XCTAssertEqual(seen, Set(list))
    s.uid = 4
    let c = try SharingRegistry.make(s, initialModel: model) as! PartialModel
    XCTAssertNotEqual((1...20).map(a.alpha(forRound:)), (1...20).map(c.alpha(forRound:)))
  }

  /// TopK ranks by how far each value moved since it was last sent, averaging included.
  func testTopKRanksTheChangeSinceEachValueWasLastShared() throws {
    let topK = try TopK(settings("TopK", alpha: 0.25), initialModel: FloatBuffer([0, 0, 0, 0]))
    let first = topK.makeShares(of: FloatBuffer([0.4, 0.3, 0, 0]), round: 1, recipients: [1])[0].share
    XCTAssertEqual(first.indices, [0])
    // p0 was sent at 0.4; p1 has drifted 0.3 unsent and now leads.
    let second = topK.makeShares(of: FloatBuffer([0.5, 0.3, 0, 0.2]), round: 2, recipients: [1])[0].share
    XCTAssertEqual(second.indices, [1])
    XCTAssertEqual(second.values, [0.3])
    let third = topK.makeShares(of: FloatBuffer([0.5, 0.3, 0, 0.2]), round: 3, recipients: [1])[0].share
    XCTAssertEqual(third.indices, [3], "p3 drifted 0.2 against p0's 0.1")
  }

  /// When the sampled bracket cannot hold the answer (here: every magnitude tied), the full
  /// quickselect takes over and ties still go by index.
  func testSelectionFallsBackWhenTheBracketMisses() throws {
    let n = 20_000
    let p = try partial([Float](repeating: 0, count: n), alpha: 0.25)
    XCTAssertEqual(share(p, [Float](repeating: 0.5, count: n)).indices, (0..<5000).map(UInt32.init))
    var spiky = [Float](repeating: 0, count: n)
    for i in stride(from: 3, to: n, by: 1000) { spiky[i] = Float(i) }
    let q = try partial([Float](repeating: 0, count: n), alpha: 0.25)
    let chosen = share(q, spiky).indices
    XCTAssertEqual(chosen.count, 5000)
    XCTAssertTrue(stride(from: 3, to: n, by: 1000).allSatisfy { chosen.contains(UInt32($0)) })
  }

  /// Selection is exact on a large vector: quickselect agrees with a sort.
  func testQuickselectAgreesWithASort() throws {
    for (n, k, seed) in [(7850, 785, UInt64(1)), (100_000, 3, 2), (4097, 3000, 3), (50_000, 25_000, 4)] {
      var x = randomVector(n, seed: seed)
      for i in stride(from: 0, to: n, by: 7) { x[i] = 0 }  // many ties
      let p = try partial([Float](repeating: 0, count: n), alpha: Double(k) / Double(n))
      let got = share(p, x).indices
      let expected = (0..<n).sorted { abs(x[$0]) > abs(x[$1]) || (abs(x[$0]) == abs(x[$1]) && $0 < $1) }.prefix(k)
      XCTAssertEqual(got, expected.sorted().map(UInt32.init), "n \(n) k \(k)")
    }
  }
}
