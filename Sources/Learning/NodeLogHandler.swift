import Foundation
import Logging
import Numerics

/// swift-log handler for a node: every line goes to the node's log file, unbuffered (a killed
/// process keeps its last lines), and warnings and errors also go to standard error.
public struct NodeLogHandler: LogHandler {
  /// The open log file, shared by copies of the handler (swift-log copies handlers by value).
  final class Sink: @unchecked Sendable {
    // Only the node's own thread logs; the lock-free design relies on that (DESIGN decision 2).
    let handle: FileHandle?
    init(path: String?) {
      if let path {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = FileHandle(forWritingAtPath: path)
        handle?.seekToEndOfFile()
      } else {
        handle = nil
      }
    }
    func write(_ line: String) { handle?.write(Data(line.utf8)) }
  }

  let sink: Sink
  let label: String
  public var logLevel: Logger.Level
  public var metadata: Logger.Metadata = [:]

  public init(label: String, path: String?, level: Logger.Level) {
    sink = Sink(path: path)
    self.label = label
    logLevel = level
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    let time = Date().timeIntervalSince1970
    let line = String(format: "%.3f", time) + " \(event.level) [\(label)] \(event.message)\n"
    sink.write(line)
    if event.level >= .warning || sink.handle == nil { StandardError.write(line) }
  }

  /// A logger for node `uid` writing to `path` at `level` (`debug`, `info`, `warning`, …).
  public static func logger(uid: Int, path: String?, level: String) -> Logger {
    let parsed = Logger.Level(rawValue: level.lowercased()) ?? .info
    var logger = Logger(label: "node \(uid)") { label in NodeLogHandler(label: label, path: path, level: parsed) }
    logger.logLevel = parsed
    return logger
  }
}
