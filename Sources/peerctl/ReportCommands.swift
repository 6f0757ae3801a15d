import ArgumentParser
import Foundation
import Learning
import Numerics

/// Prints one error line and returns the exit code for bad input (2).
func fail(_ message: String) -> ExitCode {
  StandardError.write("peerctl \(message)")
  return ExitCode(2)
}

/// The run directories of `peerctl report` and `plot`: positional, or `--log-dir` (repeatable)
/// as the launcher's messages and older scripts write it.
struct RunDirectories: ParsableArguments {
  @Argument(help: "Run directories (searched recursively for *_results.json).")
  var runs: [String] = []

  @Option(name: .customLong("log-dir"), help: "A run directory (the same as a positional one); repeatable.")
  var logDir: [String] = []

  @Option(help: "Legend label for each run, in order (default: algorithm and sharing method from the results).")
  var label: [String] = []

  var all: [String] { runs + logDir }

  func validate() throws {
    if all.isEmpty { throw ValidationError("give at least one run directory") }
    if !label.isEmpty && label.count != all.count {
      throw ValidationError("give one --label per run (\(all.count)), got \(label.count)")
    }
  }

  func load() throws -> [RunRecords] { try all.map(RunRecords.load) }
}

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Aggregate a run's results across nodes: per evaluation round, then a summary line.",
    discussion:
      "Per evaluation round: mean/min/max test accuracy (RMSE for MovieLens) and test loss across the nodes that "
      + "evaluated, mean train loss, MB sent per node (data and metadata, 10^6 bytes) and mean seconds since the "
      + "nodes started. Several runs are shown side by side. When nodes ended at different rounds (a random walk), "
      + "rows stop at the fewest rounds a finished node reached, and the output says so.")

  enum Format: String, EnumerableFlag {
    case table, json, csv
    static func help(for value: Format) -> ArgumentHelp? {
      switch value {
      case .table: return "A table for people (default)."
      case .json: return "Every number unrounded, as JSON."
      case .csv: return "One line per run and evaluation round, numbers unrounded."
      }
    }
  }

  @OptionGroup var dirs: RunDirectories
  @Flag(exclusivity: .exclusive) var format: Format = .table

  @Flag(help: "One line for the whole run (final accuracy or RMSE, rounds reached, time, MB sent per node).")
  var summary = false

  @Flag(help: "With --summary: print the column header too.")
  var header = false

  @Flag(help: "One line per node: rounds, seconds, rounds per second, final accuracy or RMSE, MB sent.")
  var nodes = false

  func run() throws {
    let reports: [RunReport]
    do {
      let runs = try dirs.load()
      if nodes {
        for run in runs { print(RunReport.perNode(run.nodes.map(\.results)), terminator: "") }
        return
      }
      if summary {
        if header { print(RunSummary.header) }
        for run in runs { print(RunReport.summarise(run.nodes.map(\.results)).line) }
        return
      }
      reports = RunReport.make(runs, labels: dirs.label)
    } catch {
      throw fail("report: \(error)")
    }
    switch format {
    case .table: print(reports.count == 1 ? reports[0].table() : RunReport.sideBySide(reports), terminator: "")
    case .csv: print(RunReport.csv(reports), terminator: "")
    case .json: print(try RunReport.json(reports), terminator: "")
    }
  }
}

extension RunPlot.XAxis: ExpressibleByArgument {}
extension RunPlot.YAxis: ExpressibleByArgument {}

struct PlotCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plot",
    abstract:
      "Draw one curve per run (mean across nodes, min–max band) with matplotlib; the data goes beside it as CSV.",
    discussion:
      "The figure's format follows -o's extension (.png, .pdf, .svg); its numbers are written to the same name "
      + "with .csv. Needs matplotlib for python3 (scripts/setup.sh installs Debian's python3-matplotlib); "
      + "PEERD_PYTHON chooses the interpreter.")

  @OptionGroup var dirs: RunDirectories

  @Option(help: "X axis: \(RunPlot.XAxis.allCases.map(\.rawValue).joined(separator: ", ")) (bytes: MB sent per node).")
  var x: RunPlot.XAxis = .rounds

  @Option(
    help:
      "Y axis: \(RunPlot.YAxis.allCases.map(\.rawValue).joined(separator: ", ")) (default: rmse for MovieLens runs, else test_acc)."
  )
  var y: RunPlot.YAxis?

  @Option(name: [.short, .customLong("output")], help: "The figure: FIG.png, FIG.pdf or FIG.svg.")
  var output: String

  @Option(help: "Size in pixels, WIDTHxHEIGHT (for PDF and SVG: divided by --dpi, in inches).")
  var size: String = "1200x750"

  @Option(help: "Dots per inch.")
  var dpi: Int = 150

  @Option(help: "A title above the plot.")
  var title: String?

  var pixels: (Int, Int)? {
    let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
    guard parts.count == 2, parts.allSatisfy({ $0 >= 100 && $0 <= 10_000 }) else { return nil }
    return (parts[0], parts[1])
  }

  func validate() throws {
    if pixels == nil { throw ValidationError("--size is WIDTHxHEIGHT in pixels, each 100…10000, got '\(size)'") }
    if dpi < 10 || dpi > 1200 { throw ValidationError("--dpi must be in 10…1200, got \(dpi)") }
    let ext = (output as NSString).pathExtension.lowercased()
    if !["png", "pdf", "svg"].contains(ext) {
      throw ValidationError("-o must end in .png, .pdf or .svg, got '\(output)'")
    }
  }

  func run() throws {
    let (width, height) = pixels!
    let csvPath = (output as NSString).deletingPathExtension + ".csv"
    do {
      let runs = try dirs.load()
      let reports = RunReport.make(runs, labels: dirs.label)
      let axis = y ?? (runs.allSatisfy(\.isRegression) ? .rmse : .testAcc)
      let plot = try RunPlot(runs: runs, reports: reports, x: x, y: axis)
      let folder = (output as NSString).deletingLastPathComponent
      if !folder.isEmpty { try FileSystem.createDirectory(folder, for: "create the plot's folder") }
      try FileSystem.write(Array(plot.csv.utf8), to: csvPath, for: "write the plot's data")
      try PlotScript.draw(plot.request(output: output, width: width, height: height, dpi: dpi, title: title))
    } catch let error as PlotScript.Failure {
      StandardError.write("peerctl plot: \(error)")
      throw ExitCode(1)
    } catch {
      throw fail("plot: \(error)")
    }
    print(output)
    print(csvPath)
  }
}
