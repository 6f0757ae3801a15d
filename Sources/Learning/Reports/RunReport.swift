import Foundation

/// Mean, minimum and maximum of one number across nodes.
public struct Spread: Codable, Sendable, Equatable {
  public var mean: Double
  public var min: Double
  public var max: Double

  /// nil for no values.
  public init?(_ values: [Double]) {
    guard let lo = values.min(), let hi = values.max() else { return nil }
    mean = values.reduce(0, +) / Double(values.count)
    min = lo
    max = hi
  }
}

/// One run aggregated across its nodes: a row per evaluation round and a summary, as
/// `peerctl report` prints it (table, `--json`, `--csv`) and `peerctl plot` draws it.
///
/// Rows are the rounds at which nodes evaluated on their test set; each row aggregates the nodes
/// that evaluated at that round. When the nodes that finished ended at different rounds (a random
/// walk stops each node at its own count), rows stop at the fewest rounds any of them reached, so
/// that the last row is not one node's figure; `notes` says so, and the summary's final figure
/// takes each node's last evaluation.
public struct RunReport: Codable, Sendable, Equatable {
  public struct Row: Codable, Sendable, Equatable {
    public var round: Int
    /// Nodes that evaluated at this round.
    public var nodes: Int
    public var testAcc: Spread?
    public var testLoss: Spread?
    public var testRMSE: Spread?
    public var trainLoss: Spread?
    /// Mean over nodes of the model bytes sent up to this round, in MB (10^6 bytes).
    public var mbDataPerNode: Double?
    public var mbMetaPerNode: Double?
    /// Mean over nodes of the seconds since each started.
    public var seconds: Double?

    enum CodingKeys: String, CodingKey {
      case round, nodes
      case testAcc = "test_acc"
      case testLoss = "test_loss"
      case testRMSE = "test_rmse"
      case trainLoss = "train_loss"
      case mbDataPerNode = "mb_data_per_node"
      case mbMetaPerNode = "mb_meta_per_node"
      case seconds
    }
  }

  public struct Summary: Codable, Sendable, Equatable {
    /// Nodes with a results file, and how many the manifest expected.
    public var nodes: Int
    public var expectedNodes: Int?
    /// Nodes by outcome (`completed`, `stopped`, `isolated`, `lost`, `running`, …); nodes the
    /// manifest expected but that left no results file count as `missing`.
    public var outcomes: [String: Int]
    /// Each evaluating node's last test accuracy (%), or RMSE for regression, across nodes.
    public var finalMetric: Spread?
    /// Rounds the nodes completed: fewest and most.
    public var minRounds: Int
    public var maxRounds: Int
    /// The longest any node ran, in seconds since it started.
    public var seconds: Double
    public var mbDataPerNode: Double
    public var mbMetaPerNode: Double
    /// Rounds, over all nodes, that averaged with nobody.
    public var isolatedRounds: Int

    enum CodingKeys: String, CodingKey {
      case nodes
      case expectedNodes = "expected_nodes"
      case outcomes
      case finalMetric = "final_metric"
      case minRounds = "min_rounds"
      case maxRounds = "max_rounds"
      case seconds
      case mbDataPerNode = "mb_data_per_node"
      case mbMetaPerNode = "mb_meta_per_node"
      case isolatedRounds = "isolated_rounds"
    }
  }

  public var directory: String
  public var label: String
  public var algorithm: String
  public var sharing: String
  /// MovieLens: the metric is the RMSE, not the accuracy.
  public var regression: Bool
  public var rows: [Row]
  /// Rows stop here when the nodes ended at different rounds.
  public var cutAtRound: Int?
  public var notes: [String]
  public var summary: Summary

  enum CodingKeys: String, CodingKey {
    case directory, label, algorithm, sharing, regression, rows
    case cutAtRound = "cut_at_round"
    case notes, summary
  }

  public init(_ run: RunRecords, label: String? = nil) {
    let all = run.nodes.map(\.results)
    let evaluating = run.evaluating
    directory = run.directory
    algorithm = run.algorithm
    sharing = run.sharing
    regression = run.isRegression
    self.label = label ?? Self.label(algorithm: algorithm, sharing: sharing)
    notes = []

    // Rows stop at the fewest rounds a finished node reached, when finished nodes disagree.
    let finished = all.filter { $0.outcome == "completed" }
    let ends = (finished.isEmpty ? all : finished).map(\.lastRound)
    var cut: Int?
    if let lo = ends.min(), let hi = ends.max(), lo < hi {
      cut = lo
      notes.append(
        "nodes ended at different rounds (\(lo)–\(hi)): rows stop at round \(lo), the fewest any finished node reached; the final figure is each node's last evaluation"
      )
    }
    cutAtRound = cut
    let rounds = Set(evaluating.flatMap(\.testLoss.rounds)).filter { r in cut.map { r <= $0 } ?? true }
    rows = rounds.sorted().map { r in Self.row(r, all: all, evaluating: evaluating) }
    summary = Self.summary(run, all: all, evaluating: evaluating)
    if let expected = summary.expectedNodes, expected > summary.nodes {
      notes.append("\(expected - summary.nodes) of \(expected) nodes left no results file")
    }
  }

  static func row(_ r: Int, all: [NodeResults], evaluating: [NodeResults]) -> Row {
    func values(_ m: ResultsMetric, _ nodes: [NodeResults]) -> [Double] { nodes.compactMap { $0.series(m)[r] } }
    func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
    let tested = evaluating.filter { $0.testLoss[r] != nil }
    return Row(
      round: r, nodes: tested.count, testAcc: Spread(values(.testAcc, tested)),
      testLoss: Spread(values(.testLoss, tested)), testRMSE: Spread(values(.testRMSE, tested)),
      trainLoss: Spread(values(.trainLoss, evaluating)),
      mbDataPerNode: mean(values(.totalDataPerN, all)).map { $0 / 1e6 },
      mbMetaPerNode: mean(values(.totalMeta, all)).map { $0 / 1e6 }, seconds: mean(values(.elapsedTime, all)))
  }

  static func summary(_ run: RunRecords, all: [NodeResults], evaluating: [NodeResults]) -> Summary {
    let ended = run.manifest?.end != nil
    var outcomes: [String: Int] = [:]
    for r in all { outcomes[ended && r.outcome == "running" ? "lost" : r.outcome, default: 0] += 1 }
    let expected = run.manifest?.nodes
    if let expected, expected > all.count { outcomes["missing"] = expected - all.count }
    let regression = run.isRegression
    let finals = evaluating.compactMap { regression ? $0.testRMSE.last : $0.testAcc.last }
    let rounds = all.map(\.roundsCompleted)
    func perNode(_ m: ResultsMetric) -> Double {
      all.isEmpty
        ? 0 : all.reduce(0) { $0 + ($1.series(m).max { $0.key < $1.key }?.value ?? 0) } / Double(all.count) / 1e6
    }
    return Summary(
      nodes: all.count, expectedNodes: expected, outcomes: outcomes, finalMetric: Spread(finals),
      minRounds: rounds.min() ?? 0, maxRounds: rounds.max() ?? 0,
      seconds: all.compactMap { $0.elapsedTime.last }.max() ?? 0, mbDataPerNode: perNode(.totalDataPerN),
      mbMetaPerNode: perNode(.totalMeta), isolatedRounds: all.reduce(0) { $0 + $1.isolatedRounds })
  }

  /// "D-PSGD, full sharing": the algorithm and sharing method as the results record them.
  public static func label(algorithm: String, sharing: String) -> String {
    let names = ["dpsgd": "D-PSGD", "rwm": "RWM", "swarmavg": "SwarmAvg", "fedavg": "FedAvg", "epidemic": "EL-Local"]
    let a = names[algorithm.lowercased()] ?? algorithm
    let s = sharing == "Sharing" || sharing.isEmpty ? "full sharing" : sharing
    return "\(a), \(s)"
  }

  /// Reports for several runs, each labelled by `labels` in order or else from its records; runs
  /// whose labels would be the same get their folder name added.
  public static func make(_ runs: [RunRecords], labels: [String] = []) -> [RunReport] {
    var reports = runs.enumerated().map { i, run in RunReport(run, label: i < labels.count ? labels[i] : nil) }
    if labels.isEmpty {
      let counts = Dictionary(grouping: reports.map(\.label), by: { $0 }).mapValues(\.count)
      for i in reports.indices where counts[reports[i].label, default: 0] > 1 {
        reports[i].label += " (\((reports[i].directory as NSString).lastPathComponent))"
      }
    }
    return reports
  }
}
