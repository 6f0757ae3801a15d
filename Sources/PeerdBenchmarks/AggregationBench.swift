import ArgumentParser
import Numerics
import Sharing

/// What each aggregation rule, and the differential-privacy release, costs a node per round,
/// side by side in one run: a node of a 4-regular graph averaging its model with four dense
/// neighbour models at Metropolis–Hastings weights (0.2 each), on the MNIST logistic regression's
/// size and on the FEMNIST CNN's. CPU time of this thread (builds often share the machine).
struct AggregationBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "aggregation",
    abstract: "Per-round CPU cost of mean, median, trimmed_mean and krum averaging, and of the DP release.")

  @Option(help: "Rounds timed per rule on the logistic regression (a tenth of them, at least 5, on the CNN).")
  var rounds = 200

  func run() throws {
    for (label, p) in [("MNIST LogisticRegression", 7850), ("FEMNIST CNN", 1_690_046)] {
      let r = p > 100_000 ? max(5, rounds / 10) : rounds
      print("\(label), P = \(p), own model + 4 neighbours; median CPU µs per round over \(r) rounds")
      print(pad("operation", 34) + lpad("µs", 12) + lpad("× mean", 10))
      var rng = Xoshiro256(seed: 3)
      let base = (0..<p).map { _ in rng.uniform(-0.1, 0.1) }
      let neighbours = (0..<4).map { _ in Share(dense: base.map { $0 + rng.uniform(-0.01, 0.01) }) }
      let received = neighbours.enumerated().map { (sender: $0.offset + 1, share: $0.element, weight: 0.2) }
      var meanCost = 0.0
      let rules: [(String, AggregationRule)] = [
        ("mean (BLAS fold)", .mean), ("median", .median), ("trimmed_mean 0.25", .trimmedMean(fraction: 0.25)),
        ("krum f = 1", .krum(f: 1)),
      ]
      for (name, rule) in rules {
        let aggregator = Aggregator(parameterCount: p)
        if rule != .mean { aggregator.robust = RobustAggregation(rule: rule, parameterCount: p) }
        let own = FloatBuffer(base)
        let start = FloatBuffer(base)
        let cost = medianCPU(r) {
          _ = aggregator.average(own: own, selfWeight: 0.2, received: received)
        } reset: {
          own.copy(from: start)
        }
        if rule == .mean { meanCost = cost }
        print(
          pad(name, 34) + lpad(String(format: "%.0f", cost * 1e6), 12)
            + lpad(String(format: "%.1f", cost / meanCost), 10))
      }
      for noise in PrivacySettings.Noise.allCases {
        let dp = DifferentialPrivacy(
          PrivacySettings(clip: 1, sigma: 1, noise: noise), seed: 90, uid: 0, initialModel: FloatBuffer(base))
        let x = FloatBuffer(base)
        var round = 0
        let cost = medianCPU(r) {
          round += 1
          dp.noteTraining()
          dp.release(x, round: round)
        } reset: {
        }
        print(
          pad("DP release (clip + \(noise.rawValue) noise)", 34) + lpad(String(format: "%.0f", cost * 1e6), 12)
            + lpad(String(format: "%.1f", cost / meanCost), 10))
      }
      print()
    }
  }

  /// The median CPU seconds of `body` over `count` calls, `reset` run untimed before each.
  func medianCPU(_ count: Int, _ body: () -> Void, reset: () -> Void) -> Double {
    var times: [Double] = []
    for _ in 0..<(count + 2) {
      reset()
      let t0 = cpuNow()
      body()
      times.append(cpuNow() - t0)
    }
    let timed = times.dropFirst(2).sorted()
    return timed[timed.count / 2]
  }
}
