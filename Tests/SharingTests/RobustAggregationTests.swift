import Numerics
import XCTest

@testable import Sharing

/// Every robust rule against examples computed by hand (the comments show the arithmetic).
final class RobustAggregationTests: XCTestCase {
  func aggregator(_ rule: AggregationRule, _ n: Int) -> Aggregator {
    let a = Aggregator(parameterCount: n)
    a.robust = RobustAggregation(rule: rule, parameterCount: n)
    return a
  }

  /// Own [1, 10, 0] and four neighbours at weight 0.2 each; D's third value is NaN.
  let dense: [(sender: Int, share: Share, weight: Double)] = [
    (1, Share(dense: [2, 20, 5]), 0.2),
    (2, Share(dense: [3, -100, 5]), 0.2),
    (3, Share(dense: [100, 30, 6]), 0.2),
    (4, Share(dense: [4, 40, .nan]), 0.2),
  ]

  func testMedianOfDenseSharesLeavesOutNaN() {
    let own = FloatBuffer([1, 10, 0])
    let report = aggregator(.median, 3).average(own: own, selfWeight: 0.2, received: dense)
    // p0: 1 2 3 4 100 → 3. p1: −100 10 20 30 40 → 20. p2 (NaN out): 0 5 5 6, the cumulative
    // weight reaches half exactly at the first 5 → midpoint of 5 and 5.
    XCTAssertEqual(own.array, [3, 20, 5])
    XCTAssertEqual(report.ignoredValues, [4: 1])
  }

  func testWeightedMedianUsesTheWeights() {
    // Own 1 at 0.5, 2 and 3 at 0.25: half the weight is at 1 exactly → midpoint (1 + 2) / 2.
    // Own 1 at 0.4: 0.4 < 0.5, 0.65 ≥ 0.5 → 2.
    for (selfWeight, expected) in [(0.5, Float(1.5)), (0.4, 2)] {
      let own = FloatBuffer([1])
      _ = aggregator(.median, 1).average(
        own: own, selfWeight: selfWeight,
        received: [(7, Share(dense: [3]), 0.25), (5, Share(dense: [2]), 1 - selfWeight - 0.25)])
      XCTAssertEqual(own[0], expected, "self weight \(selfWeight)")
    }
    // A FedAvg server (self weight 0) takes the median of what it received: 2, 3, 9 → 3.
    let own = FloatBuffer([1])
    _ = aggregator(.median, 1).average(
      own: own, selfWeight: 0,
      received: [(1, Share(dense: [9]), 1), (2, Share(dense: [2]), 1), (3, Share(dense: [3]), 1)])
    XCTAssertEqual(own[0], 3)
  }

  func testTrimmedMeanOfDenseSharesNeverTrimsTheLocalValue() {
    let own = FloatBuffer([1, 10, 0])
    let report = aggregator(.trimmedMean(fraction: 0.25), 3).average(own: own, selfWeight: 0.2, received: dense)
    // ⌊0.25 · 4⌋ = 1 from each end. p0: received 2 3 4 100 → keep 3 4 → (1 + 3 + 4) / 3.
    // p1: −100 20 30 40 → keep 20 30 → (10 + 20 + 30) / 3. p2: NaN out, 5 5 6, ⌊0.75⌋ = 0 → (0 + 5 + 5 + 6) / 4.
    XCTAssertEqual(own[0], 8.0 / 3, accuracy: 1e-6)
    XCTAssertEqual(own[1], 20, accuracy: 1e-6)
    XCTAssertEqual(own[2], 4, accuracy: 1e-6)
    XCTAssertEqual(report.ignoredValues, [4: 1])
  }

  /// Own [0, 0, 0, 7] at 0.2; four partial senders at 0.2: S1 p0 = 1, p1 = 1; S2 p0 = 2; S3
  /// p0 = 3, p2 = 9; S4 p0 = 100, p1 = 50. Nobody sends p3.
  let partial: [(sender: Int, share: Share, weight: Double)] = [
    (1, Share(indices: [0, 1], values: [1, 1], parameterCount: 4), 0.2),
    (2, Share(indices: [0], values: [2], parameterCount: 4), 0.2),
    (3, Share(indices: [0, 2], values: [3, 9], parameterCount: 4), 0.2),
    (4, Share(indices: [0, 1], values: [100, 50], parameterCount: 4), 0.2),
  ]

  func testTrimmedMeanOfPartialSharesTakesOnlyTheSenders() {
    func run(_ rule: PartialAveraging) -> [Float] {
      let own = FloatBuffer([0, 0, 0, 7])
      _ = aggregator(.trimmedMean(fraction: 0.25), 4).average(own: own, selfWeight: 0.2, received: partial, rule: rule)
      return own.array
    }
    // renormalize: p0 received 1 2 3 100, trim 1 each end → (0 + 2 + 3) / 3. p1 received 1 50,
    // ⌊0.5⌋ = 0 → (0 + 1 + 50) / 3. p2 received 9 → (0 + 9) / 2. p3 nobody → 7.
    XCTAssertEqual(run(.renormalize), [5.0 / 3, 17, 4.5, 7].map(Float.init))
    // fill_local: the senders that did not send a parameter hold the local value. p1: 0 0 1 50
    // → keep 0 1 → 1/3. p2: 0 0 0 9 → keep 0 0 → 0. p3: all hold 7 → 7.
    XCTAssertEqual(run(.fillLocal), [5.0 / 3, 1.0 / 3, 0, 7].map(Float.init))
    // neighbour_mean: the senders of p carry all four partial shares' 0.8. p0 as renormalize;
    // p1: 1 and 50 at 0.4 each → 0.4 + 20; p2: 9 at 0.8 → 7.2.
    XCTAssertEqual(run(.neighbourMean), [5.0 / 3, 20.4, 7.2, 7].map(Float.init))
  }

  func testMedianOfPartialSharesTakesOnlyTheSenders() {
    func run(_ rule: PartialAveraging) -> [Float] {
      let own = FloatBuffer([0, 0, 0, 7])
      _ = aggregator(.median, 4).average(own: own, selfWeight: 0.2, received: partial, rule: rule)
      return own.array
    }
    // renormalize: p0 0 1 2 3 100 → 2. p1 0 1 50 → 1. p2 0 9, half the weight at 0 → 4.5. p3 → 7.
    XCTAssertEqual(run(.renormalize), [2, 1, 4.5, 7])
    // fill_local: p1 0 0 0 1 50 → 0; p2 0 0 0 0 9 → 0.
    XCTAssertEqual(run(.fillLocal), [2, 0, 0, 7])
    // neighbour_mean: p1 0 (0.2) 1 (0.4) 50 (0.4) → 1; p2 0 (0.2) 9 (0.8) → 9.
    XCTAssertEqual(run(.neighbourMean), [2, 1, 9, 7])
  }

  /// Own [0, 0]; A [1, 0], B [0, 1], C [1, 1] and an attacker D [100, 100], weights 0.2.
  /// Squared distances: own–A 1, own–B 1, own–C 2, A–B 2, A–C 1, B–C 1, and about 2·10⁴ to D.
  func testKrumDropsTheOutlyingModels() {
    let shares: [(sender: Int, share: Share, weight: Double)] = [
      (1, Share(dense: [1, 0]), 0.2), (2, Share(dense: [0, 1]), 0.2), (3, Share(dense: [1, 1]), 0.2),
      (4, Share(dense: [100, 100]), 0.2),
    ]
    // f = 1: n = 5 points, k = 2 nearest: A 1 + 1, B 1 + 1, C 1 + 1, D 19602 + 19801. Keep
    // m − f = 3 (A, B, C): (0.2·(0 + 1 + 0 + 1)) / 0.8 = 0.5 in both coordinates.
    var own = FloatBuffer([0, 0])
    _ = aggregator(.krum(f: 1), 2).average(own: own, selfWeight: 0.2, received: shares)
    XCTAssertEqual(own[0], 0.5, accuracy: 1e-6)
    XCTAssertEqual(own[1], 0.5, accuracy: 1e-6)
    // f = 2: k = 1: A, B, C score 1 each, D 19602; keep 2, ties by sender: A and B → 1/3 each.
    own = FloatBuffer([0, 0])
    _ = aggregator(.krum(f: 2), 2).average(own: own, selfWeight: 0.2, received: shares)
    XCTAssertEqual(own[0], 1.0 / 3, accuracy: 1e-6)
    XCTAssertEqual(own[1], 1.0 / 3, accuracy: 1e-6)
    // The mean takes D in: 0.2 · (0 + 1 + 0 + 1 + 100).
    own = FloatBuffer([0, 0])
    _ = Aggregator(parameterCount: 2).average(own: own, selfWeight: 0.2, received: shares)
    XCTAssertEqual(own[0], 20.4, accuracy: 1e-4)
  }

  func testKrumLeavesOutANonFiniteModelAndKeepsItsOwnWhenTooFewRemain() {
    let shares: [(sender: Int, share: Share, weight: Double)] = [
      (1, Share(dense: [1, 0]), 0.25), (2, Share(dense: [.infinity, 1]), 0.25),
    ]
    // One candidate left (B is not one) and f = 1: nothing can be trusted; own model kept.
    let own = FloatBuffer([0, 0])
    let report = aggregator(.krum(f: 1), 2).average(own: own, selfWeight: 0.5, received: shares)
    XCTAssertEqual(own.array, [0, 0])
    XCTAssertEqual(report.ignoredValues, [2: 1])
    // f = 0: A is averaged in, B still left out: (0.5·0 + 0.25·1) / 0.75.
    _ = aggregator(.krum(f: 0), 2).average(own: own, selfWeight: 0.5, received: shares)
    XCTAssertEqual(own[0], 1.0 / 3, accuracy: 1e-6)
    XCTAssertEqual(own[1], 0)
  }

  /// The strategies average through the Aggregator, so the rule reaches them unchanged, and
  /// a frame-borrowed dense share with a NaN is averaged around it as under the mean.
  func testStrategiesAverageThroughTheRule() throws {
    let n = Aggregator.block + 3
    let strategy = try SharingRegistry.make(
      SharingSettings(name: "PartialModel", alpha: 0.5), initialModel: FloatBuffer(count: n))
    var values = [Float](repeating: 9, count: n)
    values[2] = .nan
    let frame = SharedBytes(count: 64 + 4 * n) { raw in
      raw.initializeMemory(as: UInt8.self, repeating: 0)
      values.withUnsafeBytes { (raw.baseAddress! + 64).copyMemory(from: $0.baseAddress!, byteCount: 4 * n) }
    }
    let borrowed = Share(denseBorrowing: frame, offset: 64, count: n, checked: false)
    let own = FloatBuffer([Float](repeating: 1, count: n))
    let report = strategy.average(
      own: own, selfWeight: 1.0 / 3,
      received: [(1, Share(dense: [Float](repeating: 2, count: n)), 1.0 / 3), (2, borrowed, 1.0 / 3)],
      using: aggregator(.median, n))
    XCTAssertEqual(report.ignoredValues, [2: 1])
    XCTAssertEqual(own[0], 2)
    XCTAssertEqual(own[2], 1.5, "1 and 2 remain: the midpoint")
    XCTAssertEqual(own[n - 1], 2)
  }

  /// Many senders and a long vector: the median equals a sort per parameter.
  func testMedianMatchesASortPerParameter() {
    let n = 2 * Aggregator.block + 11
    var rng = Xoshiro256(seed: 5)
    let own = (0..<n).map { _ in rng.uniform(-1, 1) }
    let others = (0..<6).map { _ in (0..<n).map { _ in rng.uniform(-1, 1) } }
    let buffer = FloatBuffer(own)
    _ = aggregator(.median, n).average(
      own: buffer, selfWeight: 1.0 / 7,
      received: others.enumerated().map { ($0.offset, Share(dense: $0.element), 1.0 / 7) })
    for i in stride(from: 0, to: n, by: 13) {
      let sorted = ([own[i]] + others.map { $0[i] }).sorted()
      XCTAssertEqual(buffer[i], sorted[3], "parameter \(i)")
    }
  }
}
