import Foundation

/// Files of the peerd checkout that its binaries use at run time (scripts/plot_runs.py,
/// scripts/bench/torch_models.py, .venv-torch), found from where the running binary is.
public enum CheckoutFile {
  /// `relative` under the checkout holding the running binary (which lives in
  /// `.build/<triple>/<configuration>/`, reached also through `.build/release`), or under the
  /// current folder; nil when none has it.
  public static func find(_ relative: String) -> String? {
    let fm = FileManager.default
    for start in starts {
      var dir = start as NSString
      for _ in 0..<6 {
        let candidate = dir.appendingPathComponent(relative)
        if fm.fileExists(atPath: candidate) { return candidate }
        let up = dir.deletingLastPathComponent
        if up == dir as String || up.isEmpty { break }
        dir = up as NSString
      }
    }
    return nil
  }

  /// Where the search starts: the binary's folder as invoked and as resolved, then the current one.
  public static var starts: [String] {
    var out = [(CommandLine.arguments[0] as NSString).deletingLastPathComponent]
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      out.append((exe as NSString).deletingLastPathComponent)
    }
    out.append(FileManager.default.currentDirectoryPath)
    return out.map { $0.isEmpty ? "." : $0 }
  }
}
