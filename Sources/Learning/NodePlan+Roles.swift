import Config
import Topology

/// Who a node deals with, from its algorithm's `RuntimePolicy.peers`: graph neighbours (D-PSGD,
/// RWM, SwarmAvg), every node (Epidemic Learning), or a server and its clients (FedAvg).
///
/// The layout is derived, never configured, so every process of a run computes the same one on
/// its own: uids 0..<n are the graph's nodes (FedAvg's clients); FedAvg's server is uid n, on
/// machine 0 at base_port + n (AddressBook+Server.swift).
extension NodePlan {
  mutating func place(in graph: Graph, book: AddressBook, keys: AlgorithmKeys) throws {
    let layout = try layOut(in: graph)
    try Self.check(keys, nodes: graph.nodeCount, hasServer: layout == .serverAndClients)
    var endpoints: [Int: String] = [:]
    for v in 0..<graph.nodeCount { endpoints[v] = book.endpoint(of: v) }
    if let server = serverUID {
      guard book.serverPortFits else {
        throw PlanError("the FedAvg server's port \(book.port(of: server)) does not fit; lower base_port")
      }
      endpoints[server] = book.serverEndpoint
    }
    self.endpoints = endpoints
    // A node binds the endpoint its peers connect to; the server's is machine 0's host.
    bindEndpoint = uid == serverUID ? book.serverEndpoint : book.bindEndpoint(of: uid)
  }

  /// Sets this node's role, graph neighbours, heartbeat peers and server uid for its algorithm
  /// on `graph`, and returns the algorithm's layout. Tests on the embedded network call it too.
  @discardableResult
  public mutating func layOut(in graph: Graph) throws -> RuntimePolicy.Peers {
    let n = graph.nodeCount
    let layout = try AlgorithmRegistry.make(algorithm, settings: algorithmSettings).policy.peers
    let hasServer = layout == .serverAndClients
    guard uid >= 0 && uid < n + (hasServer ? 1 : 0) else {
      throw PlanError(
        hasServer
          ? "uid \(uid) is neither a client of the \(n)-node graph (0…\(n - 1)) nor the FedAvg server (\(n))"
          : "uid \(uid) is not a node of the \(n)-node graph")
    }
    switch layout {
    case .neighbours:
      neighbours = graph.neighbours(of: uid)
    case .everyone:
      // A model may come from anyone, so liveness must be known for anyone: every node exchanges
      // heartbeats with every other (docs/algorithms.md, Epidemic Learning).
      neighbours = graph.neighbours(of: uid)
      heartbeatPeers = (0..<n).filter { $0 != uid }
    case .serverAndClients:
      serverUID = n
      neighbours = []
      role = uid == n ? .server : .client
      heartbeatPeers = uid == n ? Array(0..<n) : [n]
    }
    return layout
  }

  /// The algorithm keys that can only be checked once the node count is known; errors name the
  /// key's file and line.
  static func check(_ keys: AlgorithmKeys, nodes n: Int, hasServer: Bool) throws {
    func fail(_ key: String, _ message: String) -> ConfigError {
      ConfigError(.outOfRange, file: keys.file, line: keys.lines[key], section: "NODE", key: key, message: message)
    }
    if let s = keys.elFanout, s > n - 1 {
      throw fail("el_fanout", "\(s) is more than the \(n - 1) other nodes of the \(n)-node graph")
    }
    if let k = keys.clientsPerRound, hasServer, k > n {
      throw fail("clients_per_round", "\(k) is more than the \(n) clients of the \(n)-node graph")
    }
    let last = n - 1 + (hasServer ? 1 : 0)
    if let bad = keys.slowNodes.keys.sorted().first(where: { $0 > last }) {
      throw fail("slow_nodes", "uid \(bad) is not in this run (uids 0…\(last))")
    }
  }
}
