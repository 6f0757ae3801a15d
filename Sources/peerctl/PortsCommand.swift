import ArgumentParser
import Transport

/// `peerctl ports`: the launcher's pre-start check that a host can bind its nodes' ports.
struct PortsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ports",
    abstract: "Check that TCP ports FIRST…FIRST+COUNT-1 can be bound on HOST (run it on that host).",
    discussion: "Exit codes: 0 all free; 1 a port is in use (the first one is named); 2 the host is not an "
      + "address of this machine, or bad flags. The probe binds as ZeroMQ does (SO_REUSEADDR).")

  @Option(help: "The address (or name) the nodes bind, as written in the IP JSON.")
  var host: String
  @Option(help: "The first port.")
  var first: Int
  @Option(help: "How many consecutive ports.")
  var count: Int = 1

  func validate() throws {
    if count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
    if first < 1 || first + count - 1 > 65535 {
      throw ValidationError("ports \(first)…\(first + count - 1) do not fit 1…65535")
    }
  }

  func run() throws {
    for port in first..<(first + count) {
      switch PortProbe.check(host: host, port: port) {
      case .free: continue
      case .inUse(let reason):
        print("port \(port) on \(host) is in use (\(reason))")
        throw ExitCode(1)
      case .unusableHost(let reason):
        throw fail("ports: cannot bind on \(host): \(reason)")
      }
    }
    print("ports \(first)…\(first + count - 1) on \(host) are free")
  }
}
