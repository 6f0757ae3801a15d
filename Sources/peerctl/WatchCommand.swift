import ArgumentParser
import Foundation
import Learning
import Numerics

/// `peerctl watch`: a run's progress from its events files, redrawn in place on a terminal.
struct WatchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "watch",
    abstract: "Follow a run: rounds done per node, nodes alive, mean accuracy or RMSE, MB/s, ETA.",
    discussion:
      "Reads the nodes' <uid>_events.jsonl files (a remote machine's through the launcher's forwarded copy, or a "
      + "shared run directory), redrawn in place on a terminal, one line per change otherwise; it names the "
      + "machines whose events it cannot see. It ends when every node has ended.")

  enum PrintValue: String, ExpressibleByArgument, CaseIterable {
    /// "UID ROUND" per node: the last round each finished.
    case rounds
  }

  @Argument(help: "The run directory.")
  var runDirectory: String

  @Option(help: "Seconds between refreshes.")
  var interval: Double = 2

  @Flag(help: "Print the progress once and exit.")
  var once = false

  @Flag(help: "One line per refresh even on a terminal.")
  var plain = false

  @Option(help: "Text before each plain line (the launcher's name).")
  var prefix: String = ""

  @Option(
    help:
      "Print one thing and exit: \(PrintValue.allCases.map(\.rawValue).joined(separator: ", ")) ('UID ROUND' lines)."
  )
  var print: PrintValue?

  @Option(help: "With --print: only this node; repeatable.")
  var uid: [Int] = []

  func validate() throws {
    if !(0.1...3600).contains(interval) {
      throw ValidationError("--interval must be 0.1…3600 seconds, got \(interval)")
    }
  }

  func run() throws {
    let watch: RunWatch
    do { watch = try RunWatch(directory: runDirectory) } catch { throw fail("watch: \(error)") }
    if print == .rounds {
      let wanted = Set(uid)
      for r in watch.refresh().rounds where wanted.isEmpty || wanted.contains(r.uid) { write("\(r.uid) \(r.round)\n") }
      return
    }
    let inPlace = !plain && !once && isatty(STDOUT_FILENO) == 1
    var drawn = 0
    var lastLine = ""
    var lastPrinted = Date.distantPast
    while true {
      let s = watch.refresh()
      if inPlace {
        // Up to the first line drawn last time, then clear to the end of the screen.
        var text = drawn > 0 ? "\u{1B}[\(drawn)F\u{1B}[J" : ""
        text += s.screen.joined(separator: "\n") + "\n"
        write(text)
        drawn = s.screen.count
      } else if once || s.line != lastLine || Date().timeIntervalSince(lastPrinted) >= 30 || s.done {
        write(prefix + s.line + "\n")
        lastLine = s.line
        lastPrinted = Date()
      }
      if once || s.done { return }
      Thread.sleep(forTimeInterval: interval)
    }
  }

  /// Unbuffered, so a pipe or the launcher sees each line as it is made.
  func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
}
