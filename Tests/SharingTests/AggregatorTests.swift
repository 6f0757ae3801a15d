import Numerics
import XCTest

@testable import Sharing

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
    let mine = randomVector(n, seed: 3)
    let theirs = [randomVector(n, seed: 4), randomVector(n, seed: 5)]
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
    let report = Aggregator(parameterCount: n).average(
      own: own, selfWeight: 0.5, received: [(2, Share(dense: [Float](repeating: 5, count: n)), 0.25), (9, share, 0.25)])
    XCTAssertEqual(report.ignoredValues, [9: 2])
    XCTAssertEqual(own[0], 0.5 + 1.25 + 0.75)
    XCTAssertEqual(own[n - 1], 0.5 + 1.25 + 0.75)
    // Without the bad value: (0.5·1 + 0.25·5) / 0.75.
    XCTAssertEqual(own[7], 1.75 / 0.75, accuracy: 1e-6)
    XCTAssertEqual(own[Aggregator.block + 1], 1.75 / 0.75, accuracy: 1e-6)
    XCTAssertTrue(own.array.allSatisfy(\.isFinite))
  }

  /// Partial averaging, by hand. Own model [1, 1, 1, 1] at weight 0.5; neighbour A sends
  /// p0 = 3, p1 = 3 at weight 0.25; neighbour B sends p1 = 5, p2 = 5 at weight 0.25.
  func testPartialSharesAveragePerParameterAsComputedByHand() {
    func average(_ rule: PartialAveraging) -> [Float] {
      let own = FloatBuffer([1, 1, 1, 1])
      _ = Aggregator(parameterCount: 4).average(
        own: own, selfWeight: 0.5,
        received: [
          (7, Share(indices: [1, 2], values: [5, 5], parameterCount: 4), 0.25),
          (3, Share(indices: [0, 1], values: [3, 3], parameterCount: 4), 0.25),
        ], rule: rule)
      return own.array
    }
    // renormalize: p0 = (0.5 + 0.75)/0.75, p1 = (0.5 + 0.75 + 1.25)/1, p2 = (0.5 + 1.25)/0.75, p3 kept.
    let renormalized = average(.renormalize)
    XCTAssertEqual(renormalized[0], 1.25 / 0.75, accuracy: 1e-6)
    XCTAssertEqual(renormalized[1], 2.5, accuracy: 1e-6)
    XCTAssertEqual(renormalized[2], 1.75 / 0.75, accuracy: 1e-6)
    XCTAssertEqual(renormalized[3], 1)
    // fill_local: whoever did not send counts as the local value; p0 = 0.75·1 + 0.25·3.
    let filled = average(.fillLocal)
    XCTAssertEqual(filled[0], 1.5, accuracy: 1e-6)
    XCTAssertEqual(filled[1], 0.5 + 0.75 + 1.25, accuracy: 1e-6)
    XCTAssertEqual(filled[2], 2, accuracy: 1e-6)
    XCTAssertEqual(filled[3], 1)
    // neighbour_mean: the local value keeps 0.5, the mean of p's senders takes the neighbours'
    // 0.5. p0 = 0.5·1 + 0.5·3, p1 = 0.5·1 + 0.5·(3 + 5)/2, p2 = 0.5·1 + 0.5·5, p3 kept.
    XCTAssertEqual(average(.neighbourMean), [2, 2.5, 3, 1])
  }

  /// Under neighbour_mean a neighbour whose share carries nothing still counts among the
  /// neighbours the senders stand for; the other rules ignore it.
  func testNeighbourMeanCountsAnEmptyShareAmongTheNeighbours() {
    func average(_ rule: PartialAveraging) -> [Float] {
      let own = FloatBuffer([1, 1])
      _ = Aggregator(parameterCount: 2).average(
        own: own, selfWeight: 0.5,
        received: [
          (3, Share(indices: [0], values: [3], parameterCount: 2), 0.25),
          (7, Share(indices: [], values: [], parameterCount: 2), 0.25),
        ], rule: rule)
      return own.array
    }
    XCTAssertEqual(average(.neighbourMean), [2, 1])
    XCTAssertEqual(average(.renormalize)[0], 1.25 / 0.75, accuracy: 1e-6)
  }

  /// Dense shares collected before a partial one are folded in before the partial one lands.
  func testDenseThenPartialShares() {
    let own = FloatBuffer([1, 1, 1])
    let agg = Aggregator(parameterCount: 3)
    agg.begin(own: own, selfWeight: 0.5)
    agg.add(Share(dense: [3, 3, 3]), weight: 0.25)
    agg.add(Share(indices: [2], values: [9], parameterCount: 3), weight: 0.25)
    agg.finish(into: own)
    // p0, p1: (0.5 + 0.75)/0.75; p2: (0.5 + 0.75 + 2.25)/1.
    XCTAssertEqual(own[0], 1.25 / 0.75, accuracy: 1e-6)
    XCTAssertEqual(own[1], 1.25 / 0.75, accuracy: 1e-6)
    XCTAssertEqual(own[2], 3.5, accuracy: 1e-6)
  }

  /// Self weight 0 (a FedAvg server, a client taking the global model): a parameter nobody sent
  /// keeps its local value, under both rules and on the dense path, never 0/0.
  func testZeroSelfWeightKeepsUnsentParameters() {
    for rule in PartialAveraging.allCases {
      let own = FloatBuffer([1, 2, 3])
      _ = Aggregator(parameterCount: 3).average(
        own: own, selfWeight: 0, received: [(1, Share(indices: [1], values: [8], parameterCount: 3), 1)], rule: rule)
      XCTAssertEqual(own.array, [1, 8, 3], "\(rule)")
    }
    let own = FloatBuffer([1, 2, 3])
    _ = Aggregator(parameterCount: 3).average(own: own, selfWeight: 0, received: [])
    XCTAssertEqual(own.array, [1, 2, 3])
    _ = Aggregator(parameterCount: 3).average(own: own, selfWeight: 0, received: [(4, Share(dense: [5, 5, 5]), 0.5)])
    XCTAssertEqual(own.array, [5, 5, 5])
  }

  /// A SubSampling share averages at the indices its seed regenerates.
  func testSeededSharesScatterAtTheirMask() throws {
    let mask = SeededMask.indices(seed: 11, count: 3, parameterCount: 10)
    let own = FloatBuffer([Float](repeating: 0, count: 10))
    _ = Aggregator(parameterCount: 10).average(
      own: own, selfWeight: 0.5,
      received: [(1, Share(seed: 11, indices: mask, values: [2, 2, 2], parameterCount: 10), 0.5)])
    for i in 0..<10 { XCTAssertEqual(own[i], mask.contains(UInt32(i)) ? 1 : 0) }
  }

  /// Few senders are merged, many folded in one by one: both give the per-parameter formula.
  func testManyPartialSendersAgreeWithTheFormula() {
    let n = 2000
    let mine = randomVector(n, seed: 1)
    for senders in [3, Aggregator.mergeLimit + 4] {
      for rule in PartialAveraging.allCases {
        let shares = (0..<senders).map { j -> (sender: Int, share: Share, weight: Double) in
          let idx = randomIndices(200 + 37 * j, of: n, seed: UInt64(10 + j))
          let values = randomVector(idx.count, seed: UInt64(50 + j))
          return (j, Share(indices: idx, values: values, parameterCount: n), 0.5 / Double(senders))
        }
        let own = FloatBuffer(mine)
        _ = Aggregator(parameterCount: n).average(own: own, selfWeight: 0.5, received: shares, rule: rule)
        for p in 0..<n {
          var sent = 0.0
          var sum = 0.0
          for (_, share, w) in shares {
            if let k = share.indices.firstIndex(of: UInt32(p)) {
              sent += w
              sum += w * Double(share.values[k])
            }
          }
          let expected: Double
          switch rule {
          case .renormalize: expected = (0.5 * Double(mine[p]) + sum) / (0.5 + sent)
          case .fillLocal: expected = Double(mine[p]) + sum - sent * Double(mine[p])
          case .neighbourMean: expected = sent > 0 ? 0.5 * Double(mine[p]) + 0.5 * sum / sent : Double(mine[p])
          }
          XCTAssertEqual(Double(own[p]), expected, accuracy: 1e-5, "\(senders) senders, \(rule), p\(p)")
        }
      }
    }
  }

  func testCombineIsOneLinearCombination() {
    let n = 2 * Aggregator.block + 3
    let x = randomVector(n, seed: 1)
    let a = randomVector(n, seed: 2)
    let b = randomVector(n, seed: 3)
    let own = FloatBuffer(x)
    Aggregator(parameterCount: n).combine(
      into: own, ownScale: 0.5, terms: [(FloatBuffer(a), 0.25), (FloatBuffer(b), -0.125)])
    for i in [0, 1, Aggregator.block, n - 1] {
      XCTAssertEqual(own[i], 0.5 * x[i] + 0.25 * a[i] - 0.125 * b[i], accuracy: 1e-6)
    }
  }
}
