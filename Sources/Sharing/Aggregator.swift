import Numerics

/// Weighted averaging of the local model with received shares (D-PSGD's mixing step).
///
/// Dense shares are averaged in one pass over memory, in place: `add` only collects them, and
/// `finish` walks the local vector in blocks that stay in L1, turning each block into
/// own·w₀ + Σ share·wᵢ. A round of full sharing therefore reads each received model once and the
/// local one once; accumulating whole vectors share by share into a separate sum read and wrote
/// that sum once per share, and copied it back at the end.
///
/// Dense shares borrowed from their frames arrive unchecked (`Share.valuesChecked`): each block
/// of such a share is scanned for NaN and infinity just before it is added, while it is in cache.
/// A non-finite value is ignored for its parameter only, and that parameter's weights are
/// renormalised over the values that were finite; `ignoredValues` counts them per share, so the
/// caller can report the sender. One NaN from a faulty peer would otherwise poison the model.
///
/// Partial shares are applied after the dense fold, merged index by index, and each parameter
/// is averaged over the senders that actually sent it under the `PartialAveraging` rule
/// (Aggregator+Partial.swift); a parameter nobody sent keeps its local value (DESIGN: "For
/// partial sharing…"), also at self weight 0. CHOCO's consensus step over public copies is
/// `combine(into:ownScale:terms:)` (Aggregator+Combine.swift).
///
/// Shares are added in the order the caller gives; callers sort by sender uid. Every element is
/// computed by the same sequence of BLAS operations in the same order, so a synchronous run is
/// bit-identical from run to run.
public final class Aggregator {
  let parameterCount: Int
  /// For partial shares from more senders than are merged (Aggregator+Partial.swift), per
  /// parameter touched this round: its value after the dense fold (`fillLocal`) and the weight
  /// already in it (`renormalize`), valid where `stamps` holds `generation`. Allocated on first
  /// use: dense and merged averages need no model-sized workspace at all.
  var original: FloatBuffer?
  var weightIn: FloatBuffer?
  var stamps: [UInt32] = []
  var generation: UInt32 = 0
  var own: FloatBuffer?
  var selfWeight: Float = 1
  /// The local model's weight in the dense fold (the rest of the weight under `fillLocal`).
  var foldSelfWeight: Float = 1
  var rule = PartialAveraging.renormalize
  /// Dense shares, folded in one blocked pass at `finish`, with their weights and positions.
  var pending: [(share: Share, weight: Float, position: Int)] = []
  /// Partial shares, applied after the dense fold.
  var partial: [(share: Share, indices: [UInt32], weight: Float)] = []
  var denseWeight: Float = 0
  /// Every weight added since `begin`, self included (`fillLocal` divides by it).
  var totalWeight: Float = 0

  /// Per share, in the order added since `begin`: how many of its values were NaN or infinite
  /// and so left out of the average (always 0 for partial shares, which the codec checks).
  public internal(set) var ignoredValues: [Int] = []

  /// A robust rule (`[SHARING] aggregation`) that replaces the weighted mean in `average`;
  /// nil for the mean (RobustAggregation.swift).
  public var robust: RobustAggregation?

  /// Floats per block: 16 KiB, so a block of the sum and of one share fit in L1 together.
  static let block = 4096

  /// An aggregator for models of `parameterCount` parameters.
  public init(parameterCount: Int) { self.parameterCount = parameterCount }

  /// Starts a new average with the local model at weight `selfWeight` (which may be 0: a FedAvg
  /// server, or a client taking the global model). `rule` says how partial shares are averaged.
  public func begin(own: FloatBuffer, selfWeight: Double, rule: PartialAveraging = .renormalize) {
    precondition(own.count == parameterCount, "Aggregator: model size changed")
    self.own = own
    self.selfWeight = Float(selfWeight)
    self.rule = rule
    totalWeight = Float(selfWeight)
    pending.removeAll(keepingCapacity: true)
    partial.removeAll(keepingCapacity: true)
    ignoredValues.removeAll(keepingCapacity: true)
    denseWeight = 0
  }

  /// Adds one neighbour's share at `weight`. The share's parameter count must match, and its
  /// values must be float32 (quantized shares are averaged by their strategy through `combine`).
  public func add(_ share: Share, weight: Double) {
    precondition(share.parameterCount == parameterCount, "Aggregator: share size mismatch")
    precondition(share.quantizedValues == nil, "Aggregator: quantized shares are averaged through combine")
    let w = Float(weight)
    totalWeight += w
    switch share.selection {
    case .all:
      pending.append((share, w, ignoredValues.count))
      denseWeight += w
    case .indices(let indices), .seeded(_, let indices):
      partial.append((share, indices, w))
    }
    ignoredValues.append(0)
  }

  /// Writes the average into `own`.
  ///
  /// Dense shares first, in one blocked pass: with Metropolis–Hastings weights they sum to one
  /// with the local weight, so the fold is the average (it is rescaled otherwise). Partial
  /// shares then update only the parameters they carry (Aggregator+Partial.swift).
  public func finish(into own: FloatBuffer) {
    if let source = self.own, source !== own { own.copy(from: source) }
    // Under fillLocal the senders of partial shares count as holding the local value for what
    // they did not send, so their weight goes to the local model in the dense fold.
    foldSelfWeight = rule == .fillLocal && !partial.isEmpty ? totalWeight - denseWeight : selfWeight
    let total = foldSelfWeight + denseWeight
    // Nothing to average with (no share, and no weight on the local model): keep it.
    if !pending.isEmpty && total > 0 {
      let rescale = abs(total - 1) > 1e-6
      for start in stride(from: 0, to: own.count, by: Self.block) {
        let n = min(Self.block, own.count - start)
        if blockIsFinite(start: start, count: n) {
          foldBlock(start: start, count: n, into: own.pointer + start)
          if rescale { BLAS.scal(count: n, alpha: 1 / total, x: own.pointer + start) }
        } else {
          foldBlockSkippingNonFinite(start: start, count: n, into: own.pointer + start)
        }
      }
    }
    if !partial.isEmpty { applyPartial(to: own, weightInOwn: pending.isEmpty ? selfWeight : total) }
    pending.removeAll(keepingCapacity: true)
    partial.removeAll(keepingCapacity: true)
    self.own = nil
    denseWeight = 0
  }

  /// block = block·w₀ + Σ pending share·wᵢ, in that order; `block` holds the local model's
  /// values for `start..<start+n` on entry.
  func foldBlock(start: Int, count n: Int, into block: UnsafeMutablePointer<Float>) {
    BLAS.scal(count: n, alpha: foldSelfWeight, x: block)
    for (share, weight, _) in pending {
      share.withUnsafeValues { BLAS.axpy(count: n, alpha: weight, x: $0.baseAddress! + start, y: block) }
    }
  }

  /// Scans the unchecked pending shares' values in `start..<start+n`; counts what it finds.
  private func blockIsFinite(start: Int, count n: Int) -> Bool {
    var finite = true
    for entry in pending where !entry.share.valuesChecked {
      let bad = entry.share.withUnsafeValues { values -> Int in
        let block = UnsafeBufferPointer(rebasing: values[start..<(start + n)])
        return ShareCodec.firstNonFinite(block) == nil ? 0 : Self.nonFiniteCount(block)
      }
      if bad > 0 {
        ignoredValues[entry.position] += bad
        finite = false
      }
    }
    return finite
  }

  /// The slow path for a block holding a non-finite value: element by element, each parameter
  /// averaged over its finite values with the weights renormalised.
  private func foldBlockSkippingNonFinite(start: Int, count n: Int, into block: UnsafeMutablePointer<Float>) {
    var totals = [Float](repeating: foldSelfWeight, count: n)
    var sums = (0..<n).map { foldSelfWeight * block[$0] }
    for (share, weight, _) in pending {
      share.withUnsafeValues { values in
        for i in 0..<n where values[start + i].isFinite {
          sums[i] += weight * values[start + i]
          totals[i] += weight
        }
      }
    }
    for i in 0..<n where totals[i] > 0 { block[i] = sums[i] / totals[i] }
  }

  static func nonFiniteCount(_ values: UnsafeBufferPointer<Float>) -> Int {
    values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
  }
}
