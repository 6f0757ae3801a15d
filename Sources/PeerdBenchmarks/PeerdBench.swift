import ArgumentParser
import Numerics

/// `peerd-bench`: measurements that print tables, side by side in one run (never a test).
@main
struct PeerdBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "peerd-bench",
    abstract:
      "Benchmarks: model train steps and BLAS against naive loops, sharing methods against full sharing, aggregation rules against the mean, and whole clusters of real peerd processes.",
    subcommands: [ModelsBench.self, ClusterBench.self, SharingBench.self, AggregationBench.self])
}

/// Best-of-repeats timing of `body`, in seconds per call.
func measure(repeats: Int = 5, iterations: Int, _ body: () -> Void) -> Double {
  var best = Double.infinity
  for _ in 0..<repeats {
    let start = MonotonicClock.now()
    for _ in 0..<iterations { body() }
    best = min(best, (MonotonicClock.now() - start) / Double(iterations))
  }
  return best
}

func pad(_ s: String, _ width: Int) -> String {
  s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}
func lpad(_ s: String, _ width: Int) -> String {
  s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}
