import ArgumentParser
import Foundation
import Learning
import Numerics

/// Prints one error line and returns the exit code for bad input (2).
func fail(_ message: String) -> ExitCode {
  StandardError.write("peerctl \(message)")
  return ExitCode(2)
}

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report", abstract: "Aggregate every node's results file of a run into a table.")

  @Option(help: "The run directory (searched recursively for *_results.json).")
  var logDir: String

  @Flag(help: "One line for the whole run (final accuracy or RMSE, rounds reached, time, MB sent per node).")
  var summary = false

  @Flag(help: "With --summary: print the column header too.")
  var header = false

  @Flag(help: "One line per node: rounds, seconds, rounds per second, final accuracy or RMSE, MB sent.")
  var nodes = false

  func run() throws {
    do {
      if nodes {
        print(try RunReport.perNode(logDir: logDir), terminator: "")
        return
      }
      if summary {
        if header { print(RunSummary.header) }
        print(try RunReport.summary(logDir: logDir).line)
        return
      }
      print(try RunReport.load(logDir: logDir).table(), terminator: "")
    } catch {
      throw fail("report: \(error)")
    }
  }
}

struct PlotCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plot",
    abstract: "Draw test accuracy (or RMSE) and loss against rounds, time and bytes as SVG files.",
    discussion: "Give several --log-dir to compare runs on the same axes; --label names them in the legend.")

  @Option(help: "A run directory; repeat to compare runs.")
  var logDir: [String]

  @Option(help: "Legend label for each --log-dir, in the same order (default: the folder name).")
  var label: [String] = []

  @Option(name: [.short, .customLong("output")], help: "Folder for the SVG files (default: the first log dir).")
  var output: String?

  func validate() throws {
    if logDir.isEmpty { throw ValidationError("give at least one --log-dir") }
    if !label.isEmpty && label.count != logDir.count {
      throw ValidationError("give one --label per --log-dir (\(logDir.count)), got \(label.count)")
    }
  }

  func run() throws {
    var runs: [(label: String, report: RunReport)] = []
    for (i, dir) in logDir.enumerated() {
      do {
        let report = try RunReport.load(logDir: dir)
        runs.append((label.isEmpty ? (dir as NSString).lastPathComponent : label[i], report))
      } catch {
        throw fail("plot: \(error)")
      }
    }
    let folder = output ?? logDir[0]
    do {
      try FileSystem.createDirectory(folder, for: "create the plot folder")
      for (name, plot) in RunReport.plots(runs) {
        let path = (folder as NSString).appendingPathComponent("\(name).svg")
        try FileSystem.write(Array(plot.render().utf8), to: path, for: "write the plot")
        print(path)
      }
    } catch {
      throw fail("plot: \(error)")
    }
  }
}
