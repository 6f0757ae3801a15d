import Numerics

/// How a parameter that only some neighbours sent is averaged (`[SHARING] partial_averaging`).
///
/// Let w₀ be the local model's weight, S the senders of parameter p and T the sum of every
/// weight in the average (1 with Metropolis–Hastings weights).
public enum PartialAveraging: String, Sendable, CaseIterable {
  /// x_p ← (w₀·x_p + Σ_S wⱼ·xⱼ_p) / (w₀ + Σ_S wⱼ): only the senders take part, their weights and
  /// the local one renormalised over them. A parameter nobody sent keeps its value, also when
  /// w₀ = 0 (never 0/0). peerd's default and DESIGN.md's rule.
  case renormalize
  /// x_p ← (Σ_S wⱼ·xⱼ_p + (T − Σ_S wⱼ)·x_p) / T: every neighbour that did not send p is counted
  /// as holding the local value, so the local model takes the rest of the weight. This is what
  /// decentralizepy does when it fills the missing entries with its own before averaging.
  case fillLocal = "fill_local"
}

extension Aggregator {
  /// Partial shares from this many senders or fewer are merged; more go through `stamps`.
  static let mergeLimit = 8

  /// Applies the partial shares to `own`, which already holds the dense fold and carries
  /// `weightInOwn` (the local weight plus the dense shares'). A share of weight 0 changes nothing.
  func applyPartial(to own: FloatBuffer, weightInOwn: Float) {
    let shares = partial.filter { $0.weight > 0 && !$0.indices.isEmpty }
    if shares.count <= Self.mergeLimit {
      merge(shares, into: own.pointer, weightInOwn: weightInOwn)
    } else {
      applyOneByOne(shares, to: own.pointer, weightInOwn: weightInOwn)
    }
  }

  /// The index lists are sorted, so merging them visits each parameter sent once, with every
  /// value for it: x ← (W₀·x + Σ w·v) / (W₀ + Σ w) (renormalize), or x ← x + Σ w·(v − x) / T
  /// (fillLocal). Only the model and the shares are touched, in ascending order.
  private func merge(
    _ shares: [(share: Share, indices: [UInt32], weight: Float)], into x: UnsafeMutablePointer<Float>,
    weightInOwn: Float
  ) {
    let m = shares.count
    let total = totalWeight
    let renormalize = rule == .renormalize
    // Every share's indices and values as pointers: the arrays (and borrowed frames) are kept
    // alive and unmutated for the whole pass, so their storage does not move.
    withExtendedLifetime(shares) {
      var indexPointers: [UnsafePointer<UInt32>] = []
      var valuePointers: [UnsafePointer<Float>] = []
      var counts: [Int] = []
      for entry in shares {
        entry.indices.withUnsafeBufferPointer { indexPointers.append($0.baseAddress ?? UnsafePointer(bitPattern: 4)!) }
        entry.share.withUnsafeValues { valuePointers.append($0.baseAddress ?? UnsafePointer(bitPattern: 4)!) }
        counts.append(entry.indices.count)
      }
      let weights = shares.map(\.weight)
      withUnsafeTemporaryAllocation(of: Int.self, capacity: m) { cursor in
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: m) { head in
          for j in 0..<m {
            cursor[j] = 0
            head[j] = counts[j] > 0 ? indexPointers[j][0] : .max
          }
          while true {
            var next = UInt32.max
            for j in 0..<m { next = min(next, head[j]) }
            guard next != .max else { break }
            let i = Int(next)
            var weightSent: Float = 0
            var sum: Float = 0
            for j in 0..<m where head[j] == next {
              let c = cursor[j]
              weightSent += weights[j]
              sum += weights[j] * valuePointers[j][c]
              cursor[j] = c + 1
              head[j] = c + 1 < counts[j] ? indexPointers[j][c + 1] : .max
            }
            if renormalize {
              x[i] = (weightInOwn * x[i] + sum) / (weightInOwn + weightSent)
            } else {
              x[i] += (sum - weightSent * x[i]) / total
            }
          }
        }
      }
    }
  }

  /// Share by share, for many senders: per parameter, the weight W already averaged in is kept
  /// (valid where `stamps` holds this round's `generation`), and each value v of weight w is
  /// folded in as x ← x + w/(W + w)·(v − x), W ← W + w; with W = 0 (self weight 0) the first
  /// value is taken as it is. fillLocal adds w/T·(v − x₀), x₀ the value before any partial share.
  private func applyOneByOne(
    _ shares: [(share: Share, indices: [UInt32], weight: Float)], to x: UnsafeMutablePointer<Float>,
    weightInOwn: Float
  ) {
    if stamps.count != parameterCount {
      stamps = [UInt32](repeating: 0, count: parameterCount)
      weightIn = FloatBuffer(count: parameterCount)
      original = FloatBuffer(count: parameterCount)
      generation = 0
    }
    generation &+= 1
    if generation == 0 {
      for i in stamps.indices { stamps[i] = 0 }
      generation = 1
    }
    let g = generation
    let weights = weightIn!.pointer
    let before = original!.pointer
    let total = totalWeight
    let renormalize = rule == .renormalize
    stamps.withUnsafeMutableBufferPointer { stamp in
      for (share, indices, w) in shares {
        share.withUnsafeValues { values in
          indices.withUnsafeBufferPointer { idx in
            for k in 0..<idx.count {
              let i = Int(idx[k])
              if stamp[i] != g {
                stamp[i] = g
                weights[i] = weightInOwn
                before[i] = x[i]
              }
              if renormalize {
                let sum = weights[i] + w
                x[i] += (w / sum) * (values[k] - x[i])
                weights[i] = sum
              } else {
                x[i] += (w / total) * (values[k] - before[i])
              }
            }
          }
        }
      }
    }
  }
}
