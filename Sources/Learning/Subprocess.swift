import Foundation

/// Runs a helper program to completion (matplotlib for plots, PyTorch for the benchmark).
public enum Subprocess {
  /// Runs `program` (a path, or a name looked up on the PATH); nil when it cannot be started.
  public static func run(_ program: String, _ args: [String]) -> (Int32, String)? {
    let p = Process()
    if program.contains("/") {
      guard FileManager.default.isExecutableFile(atPath: program) else { return nil }
      p.executableURL = URL(fileURLWithPath: program)
      p.arguments = args
    } else {
      p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      p.arguments = [program] + args
    }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    p.standardInput = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    // env's 127: the program is not on the PATH.
    if !program.contains("/") && p.terminationStatus == 127 { return nil }
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}
