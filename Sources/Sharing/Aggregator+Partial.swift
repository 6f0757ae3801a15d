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
  /// Scatters a partial share into the running sum (forcing it on the first one).
  func scatter(_ share: Share, indices: [UInt32], weight w: Float) {
    if !materialised { materialise() }
    let sum = self.sum.pointer
    let weights = weightSum.pointer
    share.withUnsafeValues { values in
      indices.withUnsafeBufferPointer { idx in
        for k in 0..<idx.count {
          let i = Int(idx[k])
          sum[i] += w * values[k]
          weights[i] += w
        }
      }
    }
  }

  /// A dense share arriving after a partial one: added whole, unless it holds a non-finite value.
  func addDenseToSum(_ share: Share, weight w: Float) {
    guard acceptWhole(share, at: ignoredValues.count - 1) else {
      totalWeight -= w
      return
    }
    share.withUnsafeValues { BLAS.axpy(count: sum.count, alpha: w, x: $0.baseAddress!, y: sum.pointer) }
    let weights = weightSum.pointer
    for i in 0..<weightSum.count { weights[i] += w }
  }

  /// Writes the per-parameter average into `own` under `rule`.
  func finishPartial(into own: FloatBuffer) {
    guard let source = self.own else { preconditionFailure("Aggregator: finish before begin") }
    let sum = self.sum.pointer
    let weights = weightSum.pointer
    let local = source.pointer
    let out = own.pointer
    switch rule {
    case .renormalize:
      for i in 0..<own.count {
        let w = weights[i]
        out[i] = w > 0 ? sum[i] / w : local[i]
      }
    case .fillLocal:
      let total = totalWeight
      guard total > 0 else { return own.copy(from: source) }
      for i in 0..<own.count { out[i] = (sum[i] + (total - weights[i]) * local[i]) / total }
    }
  }

  /// Before a partial share forces the running sum (rare: dense and partial shares in one
  /// average), an unchecked dense share is checked whole and left out if any value is not finite.
  private func acceptWhole(_ share: Share, at index: Int) -> Bool {
    guard !share.valuesChecked else { return true }
    let bad = share.withUnsafeValues(Self.nonFiniteCount)
    ignoredValues[index] = bad
    return bad == 0
  }

  /// Folds the pending dense shares into `sum`: sum = w₀·own + Σ dense, and every parameter's
  /// weight total starts at w₀ + Σ dense weights.
  private func materialise() {
    guard let own else { preconditionFailure("Aggregator: add before begin") }
    var kept: [(share: Share, weight: Float)] = []
    for (i, entry) in pending.enumerated() {
      if acceptWhole(entry.share, at: i) {
        kept.append(entry)
      } else {
        denseWeight -= entry.weight
        totalWeight -= entry.weight
      }
    }
    pending = kept
    sum.copy(from: own)
    for start in stride(from: 0, to: sum.count, by: Self.block) {
      foldBlock(start: start, count: min(Self.block, sum.count - start), into: sum.pointer + start)
    }
    let base = selfWeight + denseWeight
    let weights = weightSum.pointer
    for i in 0..<weightSum.count { weights[i] = base }
    pending.removeAll(keepingCapacity: true)
    materialised = true
  }
}
