import ArgumentParser
import Config
import Learning
import Numerics
import PeerdCLI

/// `peerd`: one decentralized-learning node.
///
/// Thin by design: it parses flags (long names plus decentralizepy's short ones), asks the
/// Learning layer to resolve and validate a `NodePlan`, and runs it. Any input error exits with
/// code 2 before a socket opens, and so does a usage error (ArgumentParser's own code is 64); a
/// runtime fault exits with 1 and neighbours carry on.
@main
struct PeerdCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "peerd",
    abstract: "Run one peerd node: train locally, exchange parameters with graph neighbours over ZeroMQ.",
    discussion: "The node's uid is --uid, or machine-id × procs-per-machine + rank. It binds a ROUTER on "
      + "base_port + uid and connects to its neighbours (docs/operations.md). Results go to "
      + "<log-dir>/<uid>_results.json, the log to <log-dir>/<uid>.log. Exit codes: 0 done, 1 runtime fault, "
      + "2 bad input or flags (before any socket opens), 3 stopped by SIGTERM/SIGINT (results, weights and a "
      + "checkpoint written), 4 trained alone for more than [NODE] isolation_limit of its rounds.")

  /// ArgumentParser's `main()`, with usage errors exiting 2 like every other bad input.
  static func main() { mainExitingTwoOnUsageErrors() }

  @OptionGroup var files: RunOptions

  @Option(
    name: [.customLong("graph"), .customLong("gf", withSingleDash: true)], help: "Graph file (edge or adjacency list).")
  var graph: String

  @Option(
    name: [.customLong("machine-id"), .customLong("mid", withSingleDash: true)],
    help: "This machine's id in the IP JSON.")
  var machineID: Int?

  @Option(
    name: [.customLong("rank"), .customLong("rank", withSingleDash: true)], help: "This process's rank on its machine.")
  var rank: Int?

  @Option(help: "This node's uid (instead of --machine-id and --rank).")
  var uid: Int?

  @Option(
    name: [.customLong("machines"), .customLong("ms", withSingleDash: true)],
    help: "Number of machines (checked against the IP JSON).")
  var machines: Int?

  @Option(
    name: [.customLong("log-dir"), .customLong("ld", withSingleDash: true)],
    help: "Directory for the log, results and final weights.")
  var logDir: String = "."

  @Option(
    name: [.customLong("test-after"), .customLong("ta", withSingleDash: true)],
    help: "Evaluate on the test set every N rounds (overrides [NODE] test_after).")
  var testAfter: Int?

  @Option(
    name: [.customLong("train-evaluate-after"), .customLong("tea", withSingleDash: true)],
    help: "Full train-loss pass every N rounds (overrides [NODE] train_evaluate_after).")
  var trainEvaluateAfter: Int?

  @Option(
    name: [.customLong("log-level"), .customLong("ll", withSingleDash: true)],
    help: "Log level: \(LogLevel.names) (any case).")
  var logLevel: LogLevel?

  @Option(
    name: [.customLong("reset-optimizer"), .customLong("ro", withSingleDash: true)],
    help: "Reset the optimizer after each averaging: 1 or 0 (overrides [NODE] reset_optimizer).")
  var resetOptimizer: Int?

  @Flag(help: "Continue from <log-dir>/<uid>.checkpoint (written every [NODE] checkpoint_every rounds and on SIGTERM).")
  var resume = false

  @Option(
    help:
      "A tag the launcher uses to find and stop this run's processes. Without it the node writes <log-dir>/manifest.json when there is none."
  )
  var runID: String?

  func validate() throws {
    if uid == nil && (machineID == nil || rank == nil) {
      throw ValidationError("give --uid, or both --machine-id (-mid) and --rank")
    }
    if uid != nil && (machineID != nil || rank != nil) {
      throw ValidationError("give either --uid or --machine-id/--rank, not both")
    }
    if let u = uid, u < 0 { throw ValidationError("--uid must be at least 0, got \(u)") }
    if let r = resetOptimizer, r != 0 && r != 1 { throw ValidationError("--reset-optimizer takes 0 or 1, got \(r)") }
    for (flag, value) in [("--test-after", testAfter), ("--train-evaluate-after", trainEvaluateAfter)] {
      if let v = value, v < 0 || v > ConfigLimits.iterations {
        throw ValidationError("\(flag) must be between 0 and \(ConfigLimits.iterations), got \(v)")
      }
    }
  }

  func run() throws {
    MemoryTuning.keepLargeBlocksInHeap()
    let request = NodeRequest(
      configPath: files.config, graphPath: graph, graphFormat: files.graphType.rawValue, ipPath: files.ip,
      machineID: machineID, rank: rank, uid: uid, procsPerMachine: files.procsPerMachine, machines: machines,
      iterations: files.iterations, logDir: logDir, testAfter: testAfter, trainEvaluateAfter: trainEvaluateAfter,
      logLevel: logLevel?.rawValue, resetOptimizer: resetOptimizer.map { $0 == 1 }, resume: resume, runID: runID)
    let code = NodeRunner.run(request)
    if code != 0 { throw ExitCode(code) }
  }
}
