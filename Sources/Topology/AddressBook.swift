import Foundation
import Numerics

/// A bad IP-address file or placement, with the file and what was expected.
public struct AddressBookError: Error, CustomStringConvertible, Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    case unreadable
    /// Not JSON, or not an object of strings.
    case malformed
    /// A key that is not a machine id written plainly (`0`, `1`, … — not `01` or `+1`).
    case badMachineID
    /// A value that is not a host name or IP address.
    case badHost
    /// Machine ids with a gap, or none at all.
    case missingMachine
    /// Processes per machine or ports out of range.
    case badPlacement
  }

  public var kind: Kind
  public var description: String

  public init(_ kind: Kind, _ description: String) {
    self.kind = kind
    self.description = description
  }
}

/// Where every node lives: machine id → host (decentralizepy's IP JSON), uid ↔ (machine, rank),
/// and the TCP port scheme.
///
/// uid = machine × procsPerMachine + rank; port = basePort + uid. Every uid has its own port, so
/// several machine ids may even share one host (all of them 127.0.0.1 in tests). A node binds and
/// advertises the same `tcp://host:port`.
public struct AddressBook: Sendable, Equatable {
  public let hosts: [String]
  public let procsPerMachine: Int
  public let basePort: Int

  public var machineCount: Int { hosts.count }
  public var totalNodes: Int { hosts.count * procsPerMachine }

  public init(hosts: [String], procsPerMachine: Int, basePort: Int) throws {
    guard !hosts.isEmpty else { throw AddressBookError(.missingMachine, "no machines") }
    guard procsPerMachine > 0 else {
      throw AddressBookError(.badPlacement, "procs per machine must be positive, got \(procsPerMachine)")
    }
    // The product can overflow for a huge --procs-per-machine; that is as wrong as a port past 65535.
    let (nodes, overflow) = hosts.count.multipliedReportingOverflow(by: procsPerMachine)
    guard basePort > 0, !overflow, nodes <= 65535, basePort + nodes - 1 <= 65535 else {
      throw AddressBookError(
        .badPlacement,
        overflow || nodes > 65535
          ? "\(hosts.count) machine(s) × \(procsPerMachine) procs is more than the 65535 TCP ports"
          : "ports \(basePort)…\(basePort + nodes - 1) do not fit 1…65535; lower base_port")
    }
    self.hosts = hosts
    self.procsPerMachine = procsPerMachine
    self.basePort = basePort
  }

  /// Reads `{"0": "10.0.0.1", "1": "host-b"}`: keys are machine ids 0..<m, values hosts.
  public init(jsonPath: String, procsPerMachine: Int, basePort: Int) throws {
    guard let data = FileManager.default.contents(atPath: jsonPath) else {
      throw AddressBookError(.unreadable, "\(jsonPath): cannot read the IP-address file (missing or unreadable)")
    }
    try self.init(hosts: Self.parseHosts(data, path: jsonPath), procsPerMachine: procsPerMachine, basePort: basePort)
  }

  /// The hosts of an IP JSON, by machine id.
  ///
  /// Keys are machine ids written plainly (`"0"`, `"1"`; `"01"` would silently be the same
  /// machine as `"1"`); values are host names or IP addresses, which become part of a ZeroMQ
  /// endpoint, so spaces, slashes and control characters are rejected here rather than as a
  /// connect failure at run time.
  public static func parseHosts(_ data: Data, path: String) throws(AddressBookError) -> [String] {
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: data) } catch {
      throw AddressBookError(.malformed, "\(path): not valid JSON (\(jsonProblem(error)))")
    }
    guard let map = object as? [String: Any] else {
      throw AddressBookError(
        .malformed, "\(path): expected a JSON object mapping machine id to host, like {\"0\": \"127.0.0.1\"}")
    }
    var byID: [Int: String] = [:]
    for key in map.keys.sorted() {
      guard let id = Int(key), id >= 0, String(id) == key else {
        throw AddressBookError(
          .badMachineID,
          "\(path): key \(quote(key)) is not a machine id (0, 1, 2, … written without sign or leading zeros)")
      }
      guard let host = (map[key] as? String)?.trimmingCharacters(in: .whitespaces), !host.isEmpty else {
        throw AddressBookError(.badHost, "\(path): machine \(id) needs a non-empty host string")
      }
      guard isHostName(host) else {
        throw AddressBookError(.badHost, "\(path): machine \(id): \(quote(host)) is not a host name or IP address")
      }
      byID[id] = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
    }
    guard !byID.isEmpty else { throw AddressBookError(.missingMachine, "\(path): no machines listed") }
    for id in 0..<byID.count where byID[id] == nil {
      throw AddressBookError(.missingMachine, "\(path): machine ids must be 0…\(byID.count - 1); \(id) is missing")
    }
    return (0..<byID.count).map { byID[$0]! }
  }

  /// Letters, digits and `.-_:%` (names, IPv4, IPv6 and its zone index), optionally in IPv6
  /// brackets; at most 253 characters, a DNS name's limit.
  static func isHostName(_ host: String) -> Bool {
    var h = Substring(host)
    if h.hasPrefix("[") && h.hasSuffix("]") && h.count > 2 { h = h.dropFirst().dropLast() }
    return h.count <= 253
      && h.unicodeScalars.allSatisfy { c in
        c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || ".-_:%".unicodeScalars.contains(c))
      }
  }

  static func quote(_ text: String) -> String { MessageText.quote(text) }

  /// Foundation's JSON error without its domain and code: the reason and where it is.
  static func jsonProblem(_ error: Error) -> String {
    let info = (error as NSError).userInfo
    if let debug = info[NSDebugDescriptionErrorKey] as? String, !debug.isEmpty { return MessageText.plain(debug) }
    return "unexpected end or character"
  }

  public func uid(machine: Int, rank: Int) -> Int { machine * procsPerMachine + rank }
  public func location(of uid: Int) -> (machine: Int, rank: Int) { (uid / procsPerMachine, uid % procsPerMachine) }
  public func host(of uid: Int) -> String { hosts[uid / procsPerMachine] }
  public func port(of uid: Int) -> Int { basePort + uid }
  public func endpoint(of uid: Int) -> String {
    let h = host(of: uid)
    return "tcp://\(h.contains(":") ? "[\(h)]" : h):\(port(of: uid))"
  }
  /// Where `uid` binds its ROUTER: its own host's address from the IP JSON, on its port — the
  /// same endpoint its neighbours connect to. Not the wildcard: on a machine with several
  /// interfaces (or several test-bed hosts on one kernel) a node listens only where it was
  /// placed, and a host that is not this machine's fails the bind at start instead of silently
  /// listening somewhere else.
  public func bindEndpoint(of uid: Int) -> String { endpoint(of: uid) }

  /// The ports machine `machine` binds: one per rank, `basePort + uid`.
  public func ports(ofMachine machine: Int) -> ClosedRange<Int> {
    port(of: uid(machine: machine, rank: 0))...port(of: uid(machine: machine, rank: procsPerMachine - 1))
  }

  public static func isLocal(host: String) -> Bool {
    host.hasPrefix("127.") || host == "localhost" || host == "::1"
  }
}
