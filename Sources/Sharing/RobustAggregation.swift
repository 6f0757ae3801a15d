import Numerics

/// How received models are combined (`[SHARING] aggregation`), beyond D-PSGD's weighted mean.
///
/// The mean lets one neighbour move a node anywhere: a model scaled by 100 is a hundredth of the
/// average at weight 1/5, but its product is 20 times the honest models. The robust rules bound
/// what a minority of neighbours can do, at the cost of using less of what honest ones send.
/// Every rule keeps the weights the algorithm gives (Metropolis–Hastings for D-PSGD) and the
/// partial-share rule: only the senders of a parameter take part in it (docs/algorithms.md,
/// "Robust aggregation").
public enum AggregationRule: Sendable, Equatable, CustomStringConvertible {
  /// The algorithm's weighted mean (the default; the Aggregator's own blocked BLAS pass).
  case mean
  /// Per parameter, the weighted median of the local value and every value received for it.
  case median
  /// Per parameter, the received values without the ⌊fraction·n⌋ largest and smallest, averaged
  /// with the local value (which is never trimmed: a node trusts itself). fraction in [0, 0.5).
  case trimmedMean(fraction: Double)
  /// Multi-Krum (Blanchard et al., 2017) over whole models: the n − f neighbours' models with the
  /// smallest Krum scores are averaged with the local one. Needs whole-model shares.
  case krum(f: Int)

  /// The config names, in `[SHARING] aggregation`.
  public static let names = ["mean", "median", "trimmed_mean", "krum"]

  public var name: String {
    switch self {
    case .mean: return "mean"
    case .median: return "median"
    case .trimmedMean: return "trimmed_mean"
    case .krum: return "krum"
    }
  }

  public var description: String {
    switch self {
    case .mean, .median: return name
    case .trimmedMean(let fraction): return "trimmed_mean (trim_fraction \(fraction))"
    case .krum(let f): return "krum (krum_f \(f))"
    }
  }

  /// Whether the rule decides per parameter, so that partial shares can take part.
  public var isCoordinatewise: Bool {
    switch self {
    case .mean, .median, .trimmedMean: return true
    case .krum: return false
    }
  }
}

/// The robust rules' implementation, installed on a node's `Aggregator` (`robust`): every
/// strategy that averages through `Aggregator.average` (Sharing, PartialModel, RandomAlpha,
/// SubSampling, TopK) then gets the rule without knowing it. CHOCO's consensus step mixes public
/// copies instead (`combine`) and is not covered; the config refuses that combination.
///
/// Like the mean, a rule is deterministic: shares are taken in ascending sender order, ties are
/// broken by sender, and sums are accumulated in Double in a fixed order.
public final class RobustAggregation {
  public let rule: AggregationRule
  let parameterCount: Int

  /// A rule for models of `parameterCount` parameters. `.mean` needs no RobustAggregation.
  public init(rule: AggregationRule, parameterCount: Int) {
    precondition(rule != .mean, "the mean is the Aggregator's own path")
    self.rule = rule
    self.parameterCount = parameterCount
  }

  /// Averages `own` in place with `received` under the rule; the report counts, per sender, the
  /// NaN and infinite values left out (never averaged, as under the mean).
  func average(
    own: FloatBuffer, selfWeight: Double, received: [(sender: Int, share: Share, weight: Double)],
    partialRule: PartialAveraging, using aggregator: Aggregator
  ) -> AveragingReport {
    precondition(own.count == parameterCount, "RobustAggregation: model size changed")
    let ordered = received.sorted { $0.sender < $1.sender }
    for entry in ordered {
      precondition(entry.share.parameterCount == parameterCount, "RobustAggregation: share size mismatch")
      precondition(entry.share.quantizedValues == nil, "RobustAggregation: quantized shares are not averaged here")
    }
    switch rule {
    case .mean:
      preconditionFailure("the mean is the Aggregator's own path")
    case .median, .trimmedMean:
      return coordinatewise(own: own, selfWeight: selfWeight, ordered: ordered, rule: partialRule)
    case .krum(let f):
      return krum(own: own, selfWeight: selfWeight, ordered: ordered, f: f, using: aggregator)
    }
  }

  // MARK: - Krum

  /// The Krum score of each neighbour model is the sum of squared distances to its
  /// k = max(1, n − f − 2) nearest other models, n counting the local one (a reference point
  /// that is scored against but never dropped). The m − f neighbours with the lowest scores are
  /// averaged with the local model at their weights, renormalised; with m ≤ f the node keeps its
  /// own model. A share with a NaN or infinity is not a candidate; a partial share is not either
  /// (Krum compares whole models; the config allows krum with full sharing only).
  func krum(
    own: FloatBuffer, selfWeight: Double, ordered: [(sender: Int, share: Share, weight: Double)], f: Int,
    using aggregator: Aggregator
  ) -> AveragingReport {
    var report = AveragingReport()
    var candidates: [(sender: Int, share: Share, weight: Double)] = []
    for entry in ordered {
      guard case .all = entry.share.selection else { continue }
      let bad = entry.share.withUnsafeValues { v in ShareCodec.firstNonFinite(v) == nil ? 0 : Self.nonFiniteCount(v) }
      if bad > 0 {
        report.ignoredValues[entry.sender] = bad
      } else {
        candidates.append(entry)
      }
    }
    let m = candidates.count
    let keep = m - f
    guard keep > 0 else { return report }
    var chosen = candidates
    if keep < m {
      // Points: 0 is the local model, 1…m the candidates.
      let n = m + 1
      var distance = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
      for a in 0..<n {
        for b in (a + 1)..<n {
          let d = squaredDistance(point(a, own, candidates), point(b, own, candidates))
          distance[a][b] = d
          distance[b][a] = d
        }
      }
      let k = max(1, n - f - 2)
      var scores: [(score: Double, index: Int)] = []
      for c in 1...m {
        let nearest = (0..<n).filter { $0 != c }.map { distance[c][$0] }.sorted().prefix(k)
        scores.append((nearest.reduce(0, +), c - 1))
      }
      scores.sort { ($0.score, candidates[$0.index].sender) < ($1.score, candidates[$1.index].sender) }
      let kept = Set(scores.prefix(keep).map(\.index))
      chosen = candidates.enumerated().filter { kept.contains($0.offset) }.map(\.element)
    }
    aggregator.begin(own: own, selfWeight: selfWeight)
    for entry in chosen { aggregator.add(entry.share, weight: entry.weight) }
    aggregator.finish(into: own)
    return report
  }

  private func point(_ i: Int, _ own: FloatBuffer, _ candidates: [(sender: Int, share: Share, weight: Double)])
    -> Either
  {
    i == 0 ? .own(own) : .share(candidates[i - 1].share)
  }

  enum Either {
    case own(FloatBuffer)
    case share(Share)

    func withValues<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R {
      switch self {
      case .own(let x): return body(UnsafeBufferPointer(start: x.pointer, count: x.count))
      case .share(let s): return s.withUnsafeValues(body)
      }
    }
  }

  /// ‖a − b‖², accumulated in Double in index order.
  func squaredDistance(_ a: Either, _ b: Either) -> Double {
    a.withValues { x in
      b.withValues { y in
        var sum = 0.0
        for i in 0..<x.count {
          let d = Double(x[i]) - Double(y[i])
          sum += d * d
        }
        return sum
      }
    }
  }

  static func nonFiniteCount(_ values: UnsafeBufferPointer<Float>) -> Int {
    values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
  }
}
