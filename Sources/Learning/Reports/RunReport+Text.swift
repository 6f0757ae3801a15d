import Foundation

/// `peerctl report`'s three forms: a table for people, CSV for spreadsheets and plotting
/// scripts, JSON for programs. CSV and JSON carry the numbers unrounded.
extension RunReport {
  /// The run's table: one row per evaluation round, then its notes and summary line.
  public func table() -> String {
    var out = "run \(directory): \(label)\n"
    var header = ["round", "nodes"]
    header +=
      regression
      ? ["rmse_mean", "rmse_min", "rmse_max", "acc%_mean"] : Self.spreadHeader("acc%") + Self.spreadHeader("loss")
    header += ["train_loss", "MB_data/node", "MB_meta/node", "time_s"]
    var lines = [header]
    for r in rows {
      var cells = ["\(r.round)", "\(r.nodes)"]
      if regression {
        cells += Self.cells(r.testRMSE, 4) + [Self.number(r.testAcc?.mean, 2)]
      } else {
        cells += Self.cells(r.testAcc, 2) + Self.cells(r.testLoss, 4)
      }
      cells += [
        Self.number(r.trainLoss?.mean, 4), Self.number(r.mbDataPerNode, 3), Self.number(r.mbMetaPerNode, 3),
        Self.number(r.seconds, 2),
      ]
      lines.append(cells)
    }
    out += Self.align(lines)
    for note in notes { out += "note: \(note)\n" }
    return out + summaryLine + "\n"
  }

  /// One line: nodes by outcome, the final figure, rounds, time and MB sent per node.
  public var summaryLine: String {
    let s = summary
    let order = ["completed", "stopped", "isolated", "abandoned", "lost", "running", "failed", "missing"]
    let known = order.filter { s.outcomes[$0] != nil }
    let others = s.outcomes.keys.filter { !order.contains($0) }.sorted()
    let outcomes = (known + others).map { "\(s.outcomes[$0]!) \($0)" }.joined(separator: ", ")
    var line = "summary \(label): \(s.expectedNodes ?? s.nodes) nodes (\(outcomes))"
    if let f = s.finalMetric {
      line +=
        regression
        ? String(format: "; final test RMSE %.4f (min %.4f, max %.4f)", f.mean, f.min, f.max)
        : String(format: "; final test accuracy %.2f %% (min %.2f, max %.2f)", f.mean, f.min, f.max)
    }
    line += s.minRounds == s.maxRounds ? "; \(s.maxRounds) rounds" : "; \(s.minRounds)–\(s.maxRounds) rounds"
    line += String(
      format: "; %.1f s; %.3f MB sent per node (%.3f data + %.3f metadata)", s.seconds,
      s.mbDataPerNode + s.mbMetaPerNode,
      s.mbDataPerNode, s.mbMetaPerNode)
    if s.isolatedRounds > 0 { line += "; \(s.isolatedRounds) rounds averaged with nobody" }
    return line
  }

  /// Several runs side by side: per round, each run's mean metric with its spread and MB sent
  /// per node; then each run's notes and summary line.
  public static func sideBySide(_ reports: [RunReport]) -> String {
    var out = ""
    for (i, r) in reports.enumerated() { out += "[\(i + 1)] \(r.label): \(r.directory)\n" }
    var header = ["round"]
    for (i, r) in reports.enumerated() {
      let m = r.regression ? "rmse" : "acc%"
      header += ["[\(i + 1)] \(m)", "min", "max", "MB/node"]
    }
    var lines = [header]
    let rounds = Set(reports.flatMap { $0.rows.map(\.round) }).sorted()
    for round in rounds {
      var line = ["\(round)"]
      for r in reports {
        let row = r.rows.first { $0.round == round }
        let metric = r.regression ? row?.testRMSE : row?.testAcc
        line += cells(metric, r.regression ? 4 : 2)
        line.append(number(row.map { ($0.mbDataPerNode ?? 0) + ($0.mbMetaPerNode ?? 0) }, 3))
      }
      lines.append(line)
    }
    out += align(lines)
    for (i, r) in reports.enumerated() {
      for note in r.notes { out += "note [\(i + 1)]: \(note)\n" }
    }
    for r in reports { out += r.summaryLine + "\n" }
    return out
  }

  public static let csvHeader =
    ["run", "label", "algorithm", "sharing", "round", "nodes"]
    + ["test_acc", "test_loss", "test_rmse", "train_loss"].flatMap { k in ["mean", "min", "max"].map { "\(k)_\($0)" } }
    + ["mb_data_per_node", "mb_meta_per_node", "seconds"]

  /// One line per run and round, numbers unrounded; an empty cell where a node recorded nothing.
  public static func csv(_ reports: [RunReport]) -> String {
    var out = csvHeader.joined(separator: ",") + "\n"
    func spread(_ s: Spread?) -> [String] { [s?.mean, s?.min, s?.max].map { $0.map { "\($0)" } ?? "" } }
    for report in reports {
      for r in report.rows {
        var cells = [report.directory, report.label, report.algorithm, report.sharing].map(csvField)
        cells += ["\(r.round)", "\(r.nodes)"]
        cells += spread(r.testAcc) + spread(r.testLoss) + spread(r.testRMSE) + spread(r.trainLoss)
        cells += [r.mbDataPerNode, r.mbMetaPerNode, r.seconds].map { $0.map { "\($0)" } ?? "" }
        out += cells.joined(separator: ",") + "\n"
      }
    }
    return out
  }

  public static func json(_ reports: [RunReport]) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    e.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try e.encode(reports), as: UTF8.self) + "\n"
  }

  /// A CSV field, quoted when it holds a comma, a quote or a line break.
  static func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  static func spreadHeader(_ name: String) -> [String] { ["\(name)_mean", "\(name)_min", "\(name)_max"] }

  static func cells(_ s: Spread?, _ digits: Int) -> [String] {
    [number(s?.mean, digits), number(s?.min, digits), number(s?.max, digits)]
  }

  static func number(_ v: Double?, _ digits: Int) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "-" }

  /// Right-aligned columns, two spaces apart.
  static func align(_ lines: [[String]]) -> String {
    let widths = (0..<(lines.map(\.count).max() ?? 0)).map { c in
      lines.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0
    }
    return lines.map { cells in
      cells.enumerated().map { c, s in String(repeating: " ", count: widths[c] - s.count) + s }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
  }
}
