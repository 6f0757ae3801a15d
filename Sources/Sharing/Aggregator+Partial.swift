import Numerics

/// How a parameter that only some neighbours sent is averaged (`[SHARING] partial_averaging`).
///
/// Let w₀ be the local model's weight, S the senders of parameter p and T the sum of every
/// weight in the average (1 with Metropolis–Hastings weights).
public enum PartialAveraging: String, Sendable, CaseIterable {
  /// x_p ← (w₀·x_p + Σ_S wⱼ·xⱼ_p) / (w₀ + Σ_S wⱼ): only the senders take part, their weights and
  /// the local one renormalised over them. A parameter nobody sent keeps its value, also when
  /// w₀ = 0 (never 0/0). The default of the methods that choose what to send by its value
  /// (PartialModel, TopK): their senders of p are where p moved most, so they get only their
  /// own weight.
  case renormalize
  /// x_p ← (Σ_S wⱼ·xⱼ_p + (T − Σ_S wⱼ)·x_p) / T: every neighbour that did not send p is counted
  /// as holding the local value, so the local model takes the rest of the weight. This is what
  /// decentralizepy does when it fills the missing entries with its own before averaging.
  case fillLocal = "fill_local"
  /// x_p ← (W·x_p + N·m_p) / (W + N), m_p = Σ_S wⱼ·xⱼ_p / Σ_S wⱼ: the senders of p stand for all
  /// N, the weight of every partial share this round, so the local model keeps the weight W it
  /// has in a full average (w₀ plus the dense shares'), and the mean of the neighbours that sent
  /// p takes the neighbours' weight. With every neighbour sending p this is the full average. A
  /// parameter nobody sent keeps its value. SubSampling's default: its masks are random, so the
  /// senders of p are a random sample of the neighbours and m_p estimates their mean without
  /// bias (issue 14's SubSampling runs: 0.14 to 0.26 points closer to full sharing than under
  /// `renormalize`, docs/algorithms.md).
  case neighbourMean = "neighbour_mean"
}

extension Aggregator {
  /// Partial shares from this many senders or fewer are merged; more go through `stamps`.
  static let mergeLimit = 8

  /// Applies the partial shares to `own`, which already holds the dense fold and carries
  /// `weightInOwn` (the local weight plus the dense shares'). A share of weight 0 changes nothing.
  func applyPartial(to own: FloatBuffer, weightInOwn: Float) {
    let shares = partial.filter { $0.weight > 0 && !$0.indices.isEmpty }
    // neighbourMean's N: every partial share's weight, also of one that sent nothing.
    let neighbours = partial.reduce(Float(0)) { $0 + max(0, $1.weight) }
    if shares.count <= Self.mergeLimit {
      merge(shares, into: own.pointer, weightInOwn: weightInOwn, neighbours: neighbours)
    } else {
      applyOneByOne(shares, to: own.pointer, weightInOwn: weightInOwn, neighbours: neighbours)
    }
  }

  /// The index lists are sorted, so merging them visits each parameter sent once, with every
  /// value for it: x ← (W₀·x + Σ w·v) / (W₀ + Σ w) (renormalize), x ← x + Σ w·(v − x) / T
  /// (fillLocal), or x ← (W₀·x + N·Σ w·v / Σ w) / (W₀ + N) (neighbourMean). Only the model and
  /// the shares are touched, in ascending order.
  private func merge(
    _ shares: [(share: Share, indices: [UInt32], weight: Float)], into x: UnsafeMutablePointer<Float>,
    weightInOwn: Float, neighbours: Float
  ) {
    let m = shares.count
    let total = totalWeight
    let rule = self.rule
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
            switch rule {
            case .renormalize: x[i] = (weightInOwn * x[i] + sum) / (weightInOwn + weightSent)
            case .fillLocal: x[i] += (sum - weightSent * x[i]) / total
            case .neighbourMean:
              x[i] = (weightInOwn * x[i] + neighbours * (sum / weightSent)) / (weightInOwn + neighbours)
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
  /// neighbourMean keeps the senders' running mean in x, then a second pass over the indices
  /// writes (W₀·x₀ + N·mean) / (W₀ + N) once per parameter (`stamps` one past `generation`).
  private func applyOneByOne(
    _ shares: [(share: Share, indices: [UInt32], weight: Float)], to x: UnsafeMutablePointer<Float>,
    weightInOwn: Float, neighbours: Float
  ) {
    if stamps.count != parameterCount {
      stamps = [UInt32](repeating: 0, count: parameterCount)
      weightIn = FloatBuffer(count: parameterCount)
      original = FloatBuffer(count: parameterCount)
      generation = 0
    }
    // Two stamps a round (touched, and written by neighbourMean's second pass); after a wrap
    // every stamp is cleared so none can match.
    generation &+= 2
    if generation < 2 {
      for i in stamps.indices { stamps[i] = 0 }
      generation = 2
    }
    let g = generation
    let weights = weightIn!.pointer
    let before = original!.pointer
    let total = totalWeight
    let rule = self.rule
    stamps.withUnsafeMutableBufferPointer { stamp in
      for (share, indices, w) in shares {
        share.withUnsafeValues { values in
          indices.withUnsafeBufferPointer { idx in
            for k in 0..<idx.count {
              let i = Int(idx[k])
              if stamp[i] != g {
                stamp[i] = g
                weights[i] = rule == .neighbourMean ? 0 : weightInOwn
                before[i] = x[i]
              }
              switch rule {
              case .renormalize, .neighbourMean:
                let sum = weights[i] + w
                x[i] += (w / sum) * (values[k] - x[i])
                weights[i] = sum
              case .fillLocal:
                x[i] += (w / total) * (values[k] - before[i])
              }
            }
          }
        }
      }
      guard rule == .neighbourMean else { return }
      let denominator = weightInOwn + neighbours
      for (_, indices, _) in shares {
        for index in indices {
          let i = Int(index)
          guard stamp[i] == g else { continue }
          stamp[i] = g + 1
          x[i] = (weightInOwn * before[i] + neighbours * x[i]) / denominator
        }
      }
    }
  }
}
