import Foundation

/// What `peerctl plot` draws: one curve per run, the mean across nodes with a min–max band, of
/// one results key against rounds, time or bytes.
///
/// The numbers are computed here, written beside the figure as CSV, and handed to one small
/// matplotlib script (scripts/plot_runs.py) that only draws them, so a figure's data can always
/// be checked against `peerctl report`.
public struct RunPlot: Sendable {
  public enum XAxis: String, CaseIterable, Sendable {
    case rounds, time, bytes
  }

  public enum YAxis: String, CaseIterable, Sendable {
    case testAcc = "test_acc"
    case testLoss = "test_loss"
    case trainLoss = "train_loss"
    case rmse

    var metric: ResultsMetric {
      switch self {
      case .testAcc: return .testAcc
      case .testLoss: return .testLoss
      case .trainLoss: return .trainLoss
      case .rmse: return .testRMSE
      }
    }
  }

  /// One run's curve.
  public struct Curve: Codable, Sendable, Equatable {
    public var label: String
    public var directory: String
    public var rounds: [Int]
    public var x: [Double]
    public var mean: [Double]
    public var min: [Double]
    public var max: [Double]
    public var nodes: [Int]
  }

  public var x: XAxis
  public var y: YAxis
  public var curves: [Curve]

  /// Curves for `reports`' runs (same order; labels from the reports). A run that never recorded
  /// the key is an error naming it.
  public init(runs: [RunRecords], reports: [RunReport], x: XAxis, y: YAxis) throws {
    self.x = x
    self.y = y
    curves = try zip(runs, reports).map { run, report in
      let nodes = run.nodes.map(\.results)
      let rounds = Set(nodes.flatMap { $0.series(y.metric).keys }).filter { r in
        report.cutAtRound.map { r <= $0 } ?? true
      }
      guard !rounds.isEmpty else {
        throw RecordError.noRun(run.directory, "no node recorded \(y.metric.rawValue)" + Self.hint(y, run))
      }
      var c = Curve(
        label: report.label, directory: run.directory, rounds: [], x: [], mean: [], min: [], max: [], nodes: [])
      for r in rounds.sorted() {
        let having = nodes.filter { $0.series(y.metric)[r] != nil }
        guard let s = Spread(having.compactMap { $0.series(y.metric)[r] }) else { continue }
        let xs: [Double]
        switch x {
        case .rounds: xs = [Double(r)]
        case .time: xs = having.compactMap { $0.elapsedTime[r] }
        case .bytes: xs = having.compactMap { $0.totalBytes[r].map { Double($0) / 1e6 } }
        }
        guard !xs.isEmpty else { continue }
        c.rounds.append(r)
        c.x.append(xs.reduce(0, +) / Double(xs.count))
        c.mean.append(s.mean)
        c.min.append(s.min)
        c.max.append(s.max)
        c.nodes.append(having.count)
      }
      return c
    }
  }

  static func hint(_ y: YAxis, _ run: RunRecords) -> String {
    if y == .rmse && !run.isRegression {
      return " (test_rmse is recorded for regression models only; try --y test_acc)"
    }
    if y == .trainLoss { return " (set [NODE] train_evaluate_after)" }
    return " (set [NODE] test_after)"
  }

  public var xLabel: String {
    switch x {
    case .rounds: return "communication rounds"
    case .time: return "time (s, mean over nodes)"
    case .bytes: return "MB sent per node"
    }
  }

  public var yLabel: String {
    switch y {
    case .testAcc: return "test accuracy (%)"
    case .testLoss: return "test loss"
    case .trainLoss: return "training loss"
    case .rmse: return "test RMSE"
    }
  }

  /// The figure's data: one line per run and point.
  public var csv: String {
    var out = "label,run,round,\(x.rawValue),\(y.rawValue)_mean,\(y.rawValue)_min,\(y.rawValue)_max,nodes\n"
    for c in curves {
      for i in c.rounds.indices {
        out += [RunReport.csvField(c.label), RunReport.csvField(c.directory), "\(c.rounds[i])"].joined(separator: ",")
        out += ",\(c.x[i]),\(c.mean[i]),\(c.min[i]),\(c.max[i]),\(c.nodes[i])\n"
      }
    }
    return out
  }

  /// What scripts/plot_runs.py reads.
  public struct Request: Codable, Sendable {
    public var output: String
    public var width: Int
    public var height: Int
    public var dpi: Int
    public var title: String?
    public var xlabel: String
    public var ylabel: String
    public var curves: [Curve]
  }

  public func request(output: String, width: Int, height: Int, dpi: Int, title: String?) -> Request {
    Request(
      output: output, width: width, height: height, dpi: dpi, title: title, xlabel: xLabel, ylabel: yLabel,
      curves: curves)
  }
}
