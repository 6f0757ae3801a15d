import Foundation

/// Runs scripts/plot_runs.py, the one matplotlib script that draws `peerctl plot`'s figures.
///
/// The interpreter is `$PEERD_PYTHON` when set, else the first of Debian's `/usr/bin/python3`
/// (where scripts/setup.sh installs python3-matplotlib) and `python3` on the PATH that has
/// matplotlib. The script is `$PEERD_PLOT_SCRIPT`, else `scripts/plot_runs.py` of the checkout
/// holding the running binary.
public enum PlotScript {
  public enum Failure: Error, CustomStringConvertible, Equatable {
    case noMatplotlib(tried: [String])
    case noScript(searched: [String])
    case failed(status: Int32, output: String)

    public var description: String {
      switch self {
      case .noMatplotlib(let tried):
        return
          "matplotlib is not installed for \(tried.joined(separator: " or ")): run scripts/setup.sh (it installs Debian's python3-matplotlib), or point PEERD_PYTHON at a python3 that has it"
      case .noScript(let searched):
        return "scripts/plot_runs.py not found (looked in \(searched.joined(separator: ", "))); set PEERD_PLOT_SCRIPT"
      case .failed(let status, let output):
        return "scripts/plot_runs.py failed (exit \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
      }
    }
  }

  /// Draws `request` (its `output` names the file).
  public static func draw(_ request: RunPlot.Request) throws {
    let script = try locateScript()
    let env = ProcessInfo.processInfo.environment
    let interpreters = env["PEERD_PYTHON"].map { [$0] } ?? ["/usr/bin/python3", "python3"]
    let json = NSTemporaryDirectory() + "peerctl-plot-\(getpid()).json"
    try JSONEncoder().encode(request).write(to: URL(fileURLWithPath: json))
    defer { try? FileManager.default.removeItem(atPath: json) }
    for python in interpreters {
      guard let (status, output) = Subprocess.run(python, [script, json]) else { continue }
      if status == 3 { continue }
      guard status == 0 else { throw Failure.failed(status: status, output: output) }
      return
    }
    throw Failure.noMatplotlib(tried: interpreters)
  }

  static func locateScript() throws -> String {
    if let path = ProcessInfo.processInfo.environment["PEERD_PLOT_SCRIPT"] {
      guard FileManager.default.fileExists(atPath: path) else { throw Failure.noScript(searched: [path]) }
      return path
    }
    guard let found = CheckoutFile.find("scripts/plot_runs.py") else {
      throw Failure.noScript(searched: CheckoutFile.starts)
    }
    return found
  }
}
