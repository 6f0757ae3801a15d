import Foundation

/// One line per run for comparing algorithms (`peerctl report --summary`,
/// scripts/compare_algorithms.sh): where each node ended, not a table per test round.
///
/// Asynchronous algorithms end with every node at its own round count (RWM: the first to reach
/// `iterations` stops the others), so the summary takes each evaluating node's last test value,
/// the one of the model it finished with, and reports the range of rounds reached. FedAvg's
/// clients do not evaluate: its figure is the server's global model.
public struct RunSummary: Sendable, Equatable {
  public var algorithm: String
  /// Graph nodes (FedAvg: clients), and whether a server ran besides them.
  public var nodes: Int
  public var hasServer: Bool
  /// Mean over the evaluating nodes of their last test accuracy (%), or RMSE for regression.
  public var finalMetric: Double?
  public var isRegression: Bool
  /// Rounds (or iterations, or steps) completed by the evaluating nodes: fewest and most.
  public var minRounds: Int
  public var maxRounds: Int
  /// The latest any node's last round ended, in seconds since that node started.
  public var seconds: Double
  /// Every byte of model traffic the run sent (all processes), divided by `nodes`.
  public var megabytesPerNode: Double
  /// Algorithm counters summed over the nodes (re-injections, unsynchronised steps, …).
  public var counters: [String: Int]

  public static let header = "algorithm  nodes  metric      final  rounds(min-max)  time_s  MB_sent/node  counters"

  public var line: String {
    let metric = isRegression ? "rmse" : "acc%"
    let final = finalMetric.map { String(format: isRegression ? "%.4f" : "%.2f", $0) } ?? "-"
    let rounds = minRounds == maxRounds ? "\(maxRounds)" : "\(minRounds)-\(maxRounds)"
    let extra = counters.keys.sorted().map { "\($0)=\(counters[$0]!)" }.joined(separator: " ")
    func pad(_ s: String, _ w: Int) -> String { s.padding(toLength: max(w, s.count), withPad: " ", startingAt: 0) }
    return pad(algorithm, 9) + "  " + pad("\(nodes)\(hasServer ? "+1" : "")", 5) + "  " + pad(metric, 6) + "  "
      + String(repeating: " ", count: max(0, 9 - final.count)) + final + "  " + pad(rounds, 15) + "  "
      + String(format: "%6.1f", seconds) + "  " + String(format: "%12.2f", megabytesPerNode) + "  " + extra
  }
}

extension RunReport {
  /// Reads every `*_results.json` under `logDir` and summarises the run.
  public static func summary(logDir: String) throws -> RunSummary {
    summarise(try RunRecords.load(logDir).nodes.map(\.results))
  }

  /// One line per process: uid, role, rounds completed, seconds from its first round's start to
  /// its last round's end, rounds per second, last test value, MB sent (`peerctl report --nodes`).
  public static func perNode(_ records: [NodeResults]) -> String {
    var out = "uid  role    rounds  seconds  rounds/s   final  MB_sent\n"
    for r in records.sorted(by: { $0.uid < $1.uid }) {
      let seconds = (r.elapsedTime.last ?? 0) - r.startupTime
      let rate = seconds > 0 ? Double(r.roundsCompleted) / seconds : 0
      let final = (r.testRMSE.last ?? r.testAcc.last).map { String(format: "%.4f", $0) } ?? "-"
      out +=
        String(format: "%3d  ", r.uid) + r.role.padding(toLength: 6, withPad: " ", startingAt: 0)
        + String(format: "  %6d  %7.2f  %8.2f  ", r.roundsCompleted, seconds, rate)
        + String(repeating: " ", count: max(0, 6 - final.count)) + final
        + String(format: "  %7.2f\n", Double(r.totalBytes.last ?? 0) / 1e6)
    }
    return out
  }

  public static func summarise(_ records: [NodeResults]) -> RunSummary {
    let evaluating = records.filter { $0.role != "client" }
    let regression = records.contains { !$0.testRMSE.isEmpty }
    let finals = evaluating.compactMap { regression ? $0.testRMSE.last : $0.testAcc.last }
    let rounds = evaluating.map(\.roundsCompleted)
    let bytes = records.reduce(0) { $0 + ($1.totalBytes.last ?? 0) }
    let nodes = records.filter { $0.role != "server" }.count
    var counters: [String: Int] = [:]
    for r in records { counters.merge(r.counters, uniquingKeysWith: +) }
    return RunSummary(
      algorithm: records.first?.algorithm ?? "?", nodes: nodes, hasServer: records.contains { $0.role == "server" },
      finalMetric: finals.isEmpty ? nil : finals.reduce(0, +) / Double(finals.count), isRegression: regression,
      minRounds: rounds.min() ?? 0, maxRounds: rounds.max() ?? 0,
      seconds: records.compactMap { $0.elapsedTime.last }.max() ?? 0,
      megabytesPerNode: Double(bytes) / 1e6 / Double(max(1, nodes)), counters: counters)
  }
}
