/// Where a process beyond the graph's nodes lives: FedAvg's server, uid = the node count.
///
/// The graph and the IP JSON place uids 0..<n (machine × procs_per_machine + rank). A server is
/// graph-free, so it takes the next uid, n, and the next port, base_port + n, on machine 0 (the
/// launcher starts it there): no extra entry in the IP JSON, and the same placement on every node
/// without talking (docs/configuration.md, "The FedAvg server").
extension AddressBook {
  /// The server's uid: the first one past the graph's nodes.
  public var serverUID: Int { totalNodes }

  /// The server's endpoint, e.g. `tcp://10.0.0.1:20016`: machine 0's host, port base_port + n.
  public var serverEndpoint: String {
    let h = hosts[0]
    return "tcp://\(h.contains(":") ? "[\(h)]" : h):\(port(of: serverUID))"
  }

  /// Whether the server's port is still a TCP port.
  public var serverPortFits: Bool { port(of: serverUID) <= 65535 }
}
