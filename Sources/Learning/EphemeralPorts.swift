import Foundation

/// The kernel's range of local ports for outgoing connections
/// (`/proc/sys/net/ipv4/ip_local_port_range`, 32768–60999 by default on Linux).
///
/// A node's listening port inside it can be taken, before the node binds it, by any outgoing
/// connection on the machine, including another peerd's connect to a neighbour still starting:
/// with 96 peers at base_port 42000 or 46000, one or two nodes a run failed with "address already
/// in use". Outside the range no connection takes it.
public enum EphemeralPorts {
  /// The range, or nil where the file is absent (not Linux) or unreadable.
  public static func localRange(path: String = "/proc/sys/net/ipv4/ip_local_port_range") -> ClosedRange<Int>? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
    guard parts.count == 2, parts[0] <= parts[1] else { return nil }
    return parts[0]...parts[1]
  }

  /// A warning when the run's ports `ports` overlap `range`, else nil.
  public static func overlapWarning(ports: ClosedRange<Int>, range: ClosedRange<Int>? = localRange()) -> String? {
    guard let range, ports.overlaps(range) else { return nil }
    return
      "ports \(ports.lowerBound)–\(ports.upperBound) overlap this machine's ephemeral range \(range.lowerBound)–\(range.upperBound) "
      + "(net.ipv4.ip_local_port_range): an outgoing connection can take a node's port before it binds; "
      + "set [COMMUNICATION] base_port so that every port is below \(range.lowerBound)"
  }
}
