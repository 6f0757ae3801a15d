/// The log levels `[NODE] log_level` and `peerd --log-level` accept: swift-log's, which include
/// Python logging's (decentralizepy passes `-ll INFO`), matched without regard to case.
public enum LogLevel: String, CaseIterable, Sendable {
  case trace, debug, info, notice, warning, error, critical

  /// `INFO`, `Info` and `info` are the same level.
  public init?(name: String) { self.init(rawValue: name.lowercased()) }

  /// "trace, debug, info, notice, warning, error, critical", for messages.
  public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
