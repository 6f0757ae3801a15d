import Numerics

/// The per-parameter rules: weighted median and trimmed mean.
///
/// For parameter p the values are the local xₚ at weight w₀ and, from each sender j whose share
/// carries p, its value at weight wⱼ (`renormalize`, the default: only the senders of p take
/// part). Under `fill_local` a sender that did not send p counts as holding xₚ, as it does for
/// the mean; under `neighbour_mean` the partial senders of p have their weights scaled up to the
/// weight of every partial share, as they stand for all those neighbours in the mean. A NaN or infinity is left out of p and counted for its sender. A parameter nobody
/// sent keeps its local value.
///
/// - median: the weighted median of all those values: sorted by value, the point where the
///   cumulative weight reaches half the total (the midpoint of the two middle values when it
///   lands exactly between them, so equal weights give the ordinary median). A value of weight
///   0 (the local one on a FedAvg server) takes no part.
/// - trimmed mean: the received values only are sorted, the ⌊fraction·n⌋ smallest and largest
///   of the n dropped, and the rest averaged with xₚ at their weights, renormalised.
extension RobustAggregation {
  /// One received share as the per-parameter loop reads it.
  struct Source {
    var values: UnsafePointer<Float>
    /// nil for a dense share.
    var indices: UnsafePointer<UInt32>?
    var count: Int
    var weight: Double
    var cursor = 0
    var ignored = 0
  }

  func coordinatewise(
    own: FloatBuffer, selfWeight: Double, ordered: [(sender: Int, share: Share, weight: Double)],
    rule partialRule: PartialAveraging
  ) -> AveragingReport {
    var report = AveragingReport()
    let fill = partialRule == .fillLocal
    // neighbour_mean's N: the weight of every partial share, also of one that carries nothing.
    let partialTotal = ordered.reduce(0.0) { total, entry in
      if case .all = entry.share.selection { return total }
      return total + max(0, entry.weight)
    }
    let standIn = partialRule == .neighbourMean
    let live = ordered.filter { $0.weight > 0 && $0.share.count > 0 }
    guard !live.isEmpty else { return report }
    let x = own.pointer
    // Index and value storage of every share stays alive and unmoved for the whole pass.
    var ignored = [Int](repeating: 0, count: live.count)
    withExtendedLifetime(live) {
      var sources: [Source] = []
      for entry in live {
        let values = entry.share.withUnsafeValues { $0.baseAddress ?? UnsafePointer(bitPattern: 4)! }
        var indices: UnsafePointer<UInt32>?
        if case .all = entry.share.selection {
          indices = nil
        } else {
          indices = entry.share.indices.withUnsafeBufferPointer { $0.baseAddress ?? UnsafePointer(bitPattern: 4)! }
        }
        sources.append(Source(values: values, indices: indices, count: entry.share.count, weight: entry.weight))
      }
      let anyDense = sources.contains { $0.indices == nil }
      let capacity = live.count + 1
      withUnsafeTemporaryAllocation(of: (value: Double, weight: Double).self, capacity: capacity) { scratch in
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: capacity) { fromPartial in
          /// Gathers parameter i's received values into `scratch` and combines them with x[i].
          func update(_ i: Int) {
            var n = 0
            var partialSent = 0.0
            for s in sources.indices {
              let v: Float
              if let idx = sources[s].indices {
                let c = sources[s].cursor
                if c < sources[s].count && Int(idx[c]) == i {
                  v = sources[s].values[c]
                  sources[s].cursor = c + 1
                } else if fill {
                  v = x[i]
                } else {
                  continue
                }
              } else {
                v = sources[s].values[i]
              }
              guard v.isFinite else {
                sources[s].ignored += 1
                continue
              }
              scratch[n] = (Double(v), sources[s].weight)
              fromPartial[n] = sources[s].indices != nil
              if fromPartial[n] { partialSent += sources[s].weight }
              n += 1
            }
            guard n > 0 else { return }
            if standIn && partialSent > 0 {
              let scale = partialTotal / partialSent
              for k in 0..<n where fromPartial[k] { scratch[k].weight *= scale }
            }
            x[i] = Float(combine(own: Double(x[i]), selfWeight: selfWeight, received: scratch, count: n))
          }
          if anyDense || fill {
            for i in 0..<parameterCount { update(i) }
          } else {
            // Only partial shares: visit the parameters some share carries, in ascending order.
            while true {
              var next = Int.max
              for s in sources where s.cursor < s.count { next = min(next, Int(s.indices![s.cursor])) }
              guard next != .max else { break }
              update(next)
            }
          }
        }
      }
      for s in sources.indices { ignored[s] = sources[s].ignored }
    }
    for (entry, bad) in zip(live, ignored) where bad > 0 { report.ignoredValues[entry.sender] = bad }
    return report
  }

  /// The rule applied to one parameter: the local value and `count` received (value, weight)
  /// pairs in `received`, which has room for one more (reordered in place).
  func combine(
    own: Double, selfWeight: Double, received: UnsafeMutableBufferPointer<(value: Double, weight: Double)>,
    count n: Int
  ) -> Double {
    switch rule {
    case .median:
      var m = n
      if selfWeight > 0 {
        // Last before a stable sort: the local value goes after equal received values.
        received[n] = (own, selfWeight)
        m = n + 1
      }
      Self.sortByValue(received, count: m)
      return Self.weightedMedian(received, count: m, total: Self.sum(received, m))
    case .trimmedMean(let fraction):
      Self.sortByValue(received, count: n)
      // ⌊fraction · n⌋ (both non-negative: truncation is the floor).
      let b = Int(fraction * Double(n))
      var sum = selfWeight * own
      var weight = selfWeight
      for k in b..<(n - b) {
        sum += received[k].weight * received[k].value
        weight += received[k].weight
      }
      return weight > 0 ? sum / weight : own
    case .mean, .krum:
      preconditionFailure("not a per-parameter rule")
    }
  }

  static func sum(_ pairs: UnsafeMutableBufferPointer<(value: Double, weight: Double)>, _ n: Int) -> Double {
    var total = 0.0
    for k in 0..<n { total += pairs[k].weight }
    return total
  }

  /// Insertion sort by value, ties by position (stable): n is a node's degree plus one. (An
  /// odd–even transposition network of branch-free compare-exchanges measured slower here.)
  @inline(__always)
  static func sortByValue(_ pairs: UnsafeMutableBufferPointer<(value: Double, weight: Double)>, count n: Int) {
    guard n > 1 else { return }
    for i in 1..<n {
      let item = pairs[i]
      var j = i
      while j > 0 && pairs[j - 1].value > item.value {
        pairs[j] = pairs[j - 1]
        j -= 1
      }
      pairs[j] = item
    }
  }

  /// The weighted median of `n` pairs sorted by value with weights summing to `total`.
  static func weightedMedian(
    _ pairs: UnsafeMutableBufferPointer<(value: Double, weight: Double)>, count n: Int, total: Double
  ) -> Double {
    let half = total / 2
    let tolerance = total * 1e-9
    var cumulative = 0.0
    for k in 0..<n {
      cumulative += pairs[k].weight
      guard cumulative >= half - tolerance else { continue }
      // Exactly half below: the midpoint with the next value.
      if cumulative <= half + tolerance && k + 1 < n { return (pairs[k].value + pairs[k + 1].value) / 2 }
      return pairs[k].value
    }
    return pairs[n - 1].value
  }
}
