import Foundation

/// A bad IP-address file or placement, with the file and what was expected.
public struct AddressBookError: Error, CustomStringConvertible, Sendable {
  public var description: String
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
    guard !hosts.isEmpty else { throw AddressBookError(description: "no machines") }
    guard procsPerMachine > 0 else {
      throw AddressBookError(description: "procs per machine must be positive, got \(procsPerMachine)")
    }
    guard basePort > 0, basePort + hosts.count * procsPerMachine - 1 <= 65535 else {
      throw AddressBookError(
        description:
          "ports \(basePort)…\(basePort + hosts.count * procsPerMachine - 1) do not fit 1…65535; lower base_port")
    }
    self.hosts = hosts
    self.procsPerMachine = procsPerMachine
    self.basePort = basePort
  }

  /// Reads `{"0": "10.0.0.1", "1": "host-b"}`: keys are machine ids 0..<m, values hosts.
  public init(jsonPath: String, procsPerMachine: Int, basePort: Int) throws {
    guard let data = FileManager.default.contents(atPath: jsonPath) else {
      throw AddressBookError(description: "\(jsonPath): cannot read the IP-address file")
    }
    try self.init(hosts: Self.parseHosts(data, path: jsonPath), procsPerMachine: procsPerMachine, basePort: basePort)
  }

  /// The hosts of an IP JSON, by machine id.
  public static func parseHosts(_ data: Data, path: String) throws -> [String] {
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: data) } catch {
      throw AddressBookError(description: "\(path): not valid JSON (\(error.localizedDescription))")
    }
    guard let map = object as? [String: Any] else {
      throw AddressBookError(
        description: "\(path): expected a JSON object mapping machine id to host, like {\"0\": \"127.0.0.1\"}")
    }
    var byID: [Int: String] = [:]
    for (key, value) in map {
      guard let id = Int(key), id >= 0 else {
        throw AddressBookError(description: "\(path): key '\(key)' is not a machine id (a non-negative integer)")
      }
      guard let host = value as? String, !host.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw AddressBookError(description: "\(path): machine \(id) needs a non-empty host string")
      }
      byID[id] = host.trimmingCharacters(in: .whitespaces)
    }
    guard !byID.isEmpty else { throw AddressBookError(description: "\(path): no machines listed") }
    for id in 0..<byID.count where byID[id] == nil {
      throw AddressBookError(description: "\(path): machine ids must be 0…\(byID.count - 1); \(id) is missing")
    }
    return (0..<byID.count).map { byID[$0]! }
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
