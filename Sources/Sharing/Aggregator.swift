import Numerics

/// Weighted averaging of the local model with received shares (D-PSGD's mixing step).
///
/// Dense shares go through one BLAS axpy each. Partial shares are scattered by index, and for
/// every parameter the weights are renormalised over the senders that actually sent it, so a
/// parameter nobody sent keeps its local value (DESIGN: "For partial sharing…").
///
/// Shares are added in the order the caller gives; callers sort by sender uid so that the float
/// sums, and therefore a synchronous run, are bit-identical from run to run.
public final class Aggregator {
  private let sum: FloatBuffer
  private let weightSum: FloatBuffer
  private var sawPartial = false
  private var selfWeight: Float = 1

  /// Workspaces sized for models of `parameterCount` parameters, allocated once.
  public init(parameterCount: Int) {
    sum = FloatBuffer(count: parameterCount)
    weightSum = FloatBuffer(count: parameterCount)
  }

  /// Starts a new average with the local model at weight `selfWeight`.
  public func begin(own: FloatBuffer, selfWeight: Double) {
    precondition(own.count == sum.count, "Aggregator: model size changed")
    self.selfWeight = Float(selfWeight)
    sawPartial = false
    denseWeight = 0
    sum.zero()
    BLAS.axpy(count: own.count, alpha: self.selfWeight, x: own.pointer, y: sum.pointer)
  }

  /// Adds one neighbour's share at `weight`. The share's parameter count must match.
  public func add(_ share: Share, weight: Double) {
    precondition(share.parameterCount == sum.count, "Aggregator: share size mismatch")
    let w = Float(weight)
    switch share.encoding {
    case .dense:
      share.values.withUnsafeBufferPointer { BLAS.axpy(count: sum.count, alpha: w, x: $0.baseAddress!, y: sum.pointer) }
      if sawPartial {
        // Keep the per-parameter weight totals right when dense and partial shares mix.
        for i in 0..<weightSum.count { weightSum[i] += w }
      } else {
        denseWeight += w
      }
    case .indexed, .seeded:
      if !sawPartial {
        sawPartial = true
        let base = selfWeight + denseWeight
        for i in 0..<weightSum.count { weightSum[i] = base }
      }
      for (index, value) in zip(share.indices, share.values) {
        sum[index] += w * value
        weightSum[index] += w
      }
    }
  }

  private var denseWeight: Float = 0

  /// Writes the average into `own`.
  ///
  /// With only dense shares the weights already sum to one (Metropolis–Hastings over the live
  /// neighbours), so the sum is the average. With partial shares each parameter is divided by the
  /// weight that actually reached it.
  public func finish(into own: FloatBuffer) {
    if sawPartial {
      for i in 0..<own.count { own[i] = sum[i] / weightSum[i] }
    } else {
      let total = selfWeight + denseWeight
      if abs(total - 1) > 1e-6 && total > 0 {
        BLAS.scal(count: sum.count, alpha: 1 / total, x: sum.pointer)
      }
      own.copy(from: sum)
    }
    denseWeight = 0
  }
}
