import Foundation

/// A run's progress at one moment, as `peerctl watch` shows it: rounds done per node, nodes
/// alive, the current mean accuracy (or RMSE), MB/s sent and an estimate of the time left.
public struct WatchSnapshot: Sendable, Equatable {
  public struct NodeRound: Sendable, Equatable {
    public var uid: Int
    public var round: Int
  }

  public var directory: String
  /// "D-PSGD, full sharing", from the manifest.
  public var label: String?
  public var expectedNodes: Int?
  public var machines: Int?
  public var seenNodes = 0
  public var unseenMachines: [String] = []
  public var minRound: Int?
  public var medianRound: Int?
  public var maxRound: Int?
  public var iterations: Int?
  public var alive = 0
  /// Nodes that ended, by outcome.
  public var ended: [String: Int] = [:]
  /// Nodes not ended that have written nothing for a while, and for how long.
  public var silent: [Int] = []
  public var silentFor: Double?
  public var regression = false
  /// Mean over nodes of each one's latest test accuracy (%) or RMSE.
  public var metric: Double?
  public var metricNodes = 0
  public var metricFirstRound: Int?
  public var metricLastRound: Int?
  /// Model bytes sent per second by the nodes alive, all together.
  public var megabytesPerSecond = 0.0
  /// Until the slowest node alive finishes, at its recent pace.
  public var etaSeconds: Double?
  public var rounds: [NodeRound] = []
  /// Every node expected has ended.
  public var done = false

  public init(directory: String) { self.directory = directory }

  var roundsText: String {
    guard let lo = minRound, let mid = medianRound, let hi = maxRound else { return "rounds done: none yet" }
    return "rounds done: min \(lo)  median \(mid)  max \(hi)" + (iterations.map { "  of \($0)" } ?? "")
  }

  var nodesText: String {
    var t = "nodes: \(alive) alive"
    if let expected = expectedNodes { t += " of \(expected)" }
    let endedCount = ended.values.reduce(0, +)
    if endedCount > 0 {
      let parts = ended.keys.sorted().map { "\(ended[$0]!) \($0)" }.joined(separator: ", ")
      t += ", \(endedCount) ended (\(parts))"
    }
    if !silent.isEmpty {
      let who = silent.prefix(8).map(String.init).joined(separator: " ") + (silent.count > 8 ? " …" : "")
      t += ", \(silent.count) silent for \(Int(silentFor ?? 0)) s (node \(who))"
    }
    if let expected = expectedNodes, seenNodes < expected { t += ", \(expected - seenNodes) not seen yet" }
    return t
  }

  var metricText: String {
    guard let m = metric, let a = metricFirstRound, let b = metricLastRound else { return "no test yet" }
    let rounds = a == b ? "round \(a)" : "rounds \(a)–\(b)"
    return regression
      ? String(format: "mean test RMSE %.4f", m) + " over \(metricNodes) nodes (\(rounds))"
      : String(format: "mean test accuracy %.2f %%", m) + " over \(metricNodes) nodes (\(rounds))"
  }

  var rateText: String {
    var t = String(format: "%.2f MB/s sent", megabytesPerSecond)
    if done {
      t += ", done"
    } else if let eta = etaSeconds {
      t += ", ETA " + Self.duration(eta)
    }
    return t
  }

  /// The display redrawn in place on a terminal.
  public var screen: [String] {
    var lines = ["run \(directory)" + (label.map { ": \($0)" } ?? "") + (machines.map { ", \($0) machine(s)" } ?? "")]
    lines += [roundsText, nodesText, metricText, rateText]
    lines += unseenMachines
    return lines
  }

  /// One line, for a log or a pipe.
  public var line: String {
    ([roundsText, nodesText, metricText, rateText] + unseenMachines).joined(separator: " | ")
  }

  static func duration(_ s: Double) -> String {
    if s < 90 { return "\(Int(s.rounded())) s" }
    if s < 5400 { return "\(Int((s / 60).rounded())) min" }
    return String(format: "%.1f h", s / 3600)
  }
}
