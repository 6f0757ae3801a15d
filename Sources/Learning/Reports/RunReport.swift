import Foundation

/// The results of one run, read back from every node's `<uid>_results.json` under a log dir.
///
/// Used by `peerctl report` (a table) and `peerctl plot` (curves against rounds, time and bytes).
/// The files are our own output, read with Foundation's JSON parser and checked key by key.
public struct RunReport: Sendable {
  /// One node's series, keyed by round.
  public struct NodeSeries: Sendable {
    public var uid: Int
    public var path: String
    public var series: [String: [Int: Double]]
  }

  /// Aggregates over nodes at one round.
  public struct Row: Sendable {
    public var round: Int
    public var nodes: Int
    public var meanTestAccuracy: Double?
    public var minTestAccuracy: Double?
    public var maxTestAccuracy: Double?
    public var meanTestLoss: Double?
    public var meanTestRMSE: Double?
    public var meanTrainLoss: Double?
    /// Bytes sent by all nodes up to this round.
    public var totalBytes: Double?
    /// Mean seconds since the nodes started.
    public var meanElapsed: Double?
  }

  public var logDir: String
  public var nodes: [NodeSeries]

  public struct ReportError: Error, CustomStringConvertible {
    public var description: String
  }

  /// Reads every `*_results.json` under `logDir` (recursively: launcher runs have machine folders).
  public static func load(logDir: String) throws -> RunReport {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: logDir, isDirectory: &isDir), isDir.boolValue else {
      throw ReportError(description: "\(logDir): no such directory")
    }
    var files: [String] = []
    if let walker = fm.enumerator(atPath: logDir) {
      while let item = walker.nextObject() as? String {
        if item.hasSuffix("_results.json") { files.append((logDir as NSString).appendingPathComponent(item)) }
      }
    }
    guard !files.isEmpty else { throw ReportError(description: "\(logDir): no *_results.json files found") }
    var nodes: [NodeSeries] = []
    for file in files.sorted() {
      guard let data = fm.contents(atPath: file),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      else { throw ReportError(description: "\(file): not a JSON object (is the run still writing it?)") }
      var series: [String: [Int: Double]] = [:]
      for (key, value) in object {
        guard let map = value as? [String: Any] else { continue }
        var s: [Int: Double] = [:]
        for (k, v) in map {
          if let round = Int(k), let number = v as? NSNumber { s[round] = number.doubleValue }
        }
        if !s.isEmpty { series[key] = s }
      }
      let name = (file as NSString).lastPathComponent
      let uid = (object["uid"] as? NSNumber)?.intValue ?? Int(name.prefix { $0.isNumber }) ?? -1
      nodes.append(NodeSeries(uid: uid, path: file, series: series))
    }
    nodes.sort { $0.uid < $1.uid }
    return RunReport(logDir: logDir, nodes: nodes)
  }

  /// One row per round at which any node recorded `key` (default: test rounds).
  public func rows(key: String = "test_loss") -> [Row] {
    let rounds = Set(nodes.flatMap { $0.series[key]?.keys.map { $0 } ?? [] }).sorted()
    return rounds.map { round in
      func values(_ k: String) -> [Double] { nodes.compactMap { $0.series[k]?[round] } }
      func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
      let acc = values("test_acc")
      let bytes = values("total_bytes")
      return Row(
        round: round, nodes: values(key).count, meanTestAccuracy: mean(acc), minTestAccuracy: acc.min(),
        maxTestAccuracy: acc.max(), meanTestLoss: mean(values("test_loss")), meanTestRMSE: mean(values("test_rmse")),
        meanTrainLoss: mean(values("train_loss")), totalBytes: bytes.isEmpty ? nil : bytes.reduce(0, +),
        meanElapsed: mean(values("elapsed_time")))
    }
  }

  /// Whether the run trained a regression model (MovieLens): RMSE instead of accuracy.
  public var isRegression: Bool { nodes.contains { $0.series["test_rmse"] != nil } }

  /// A plain-text table of the test rounds.
  public func table() -> String {
    let rows = rows()
    var out = "run: \(logDir)  nodes: \(nodes.count)\n"
    let metric = isRegression ? "rmse(mean)" : "acc%(mean)  acc%(min)  acc%(max)"
    out += "round  nodes  \(metric)  test_loss  train_loss  sent_MB(all)  time_s\n"
    func f(_ v: Double?, _ width: Int, _ digits: Int) -> String {
      let s = v.map { String(format: "%.\(digits)f", $0) } ?? "-"
      return String(repeating: " ", count: max(0, width - s.count)) + s
    }
    for r in rows {
      var line = f(Double(r.round), 5, 0) + "  " + f(Double(r.nodes), 5, 0) + "  "
      if isRegression {
        line += f(r.meanTestRMSE, 10, 4)
      } else {
        line += f(r.meanTestAccuracy, 10, 2) + "  " + f(r.minTestAccuracy, 9, 2) + "  " + f(r.maxTestAccuracy, 9, 2)
      }
      line += "  " + f(r.meanTestLoss, 9, 4) + "  " + f(r.meanTrainLoss, 10, 4) + "  "
      line += f(r.totalBytes.map { $0 / 1_000_000 }, 12, 2) + "  " + f(r.meanElapsed, 6, 2)
      out += line + "\n"
    }
    return out
  }
}
