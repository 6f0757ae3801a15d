import Transport

/// Base ports for test runs: a range of `count` ports free on 127.0.0.1 now, in 21000…31999.
///
/// Below Linux's ephemeral range (32768–60999), where an outgoing connection of any process may
/// hold the port a node is about to bind (a run failed that way), and above the launcher's
/// default 20000. Each port is probed as ZeroMQ binds (`PortProbe`).
enum FreePorts {
  struct Exhausted: Error, CustomStringConvertible {
    var description: String
  }

  static func base(count: Int) throws -> Int {
    precondition(count <= 100, "a test run has at most 100 nodes")
    for _ in 0..<50 {
      let base = 21000 + Int.random(in: 0..<110) * 100
      if (base..<(base + count)).allSatisfy({ PortProbe.check(host: "127.0.0.1", port: $0) == .free }) { return base }
    }
    throw Exhausted(description: "no free range of \(count) ports found in 21000…31999 on 127.0.0.1 after 50 tries")
  }
}
