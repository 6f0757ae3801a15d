import ArgumentParser
import Config
import Topology

/// The flags `peerd` and `peerctl check` share: the config, the placement files and the round
/// count, with decentralizepy's short names (`-cf`, `-ps`, `-is`, `-gt`).
public struct RunOptions: ParsableArguments {
  @Option(name: [.customLong("config"), .customLong("cf", withSingleDash: true)], help: "INI config file.")
  public var config: String

  @Option(
    name: [.customLong("graph-type"), .customLong("gt", withSingleDash: true)],
    help: "Graph file format: \(GraphFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
  public var graphType: GraphFormat = .auto

  @Option(
    name: [.customLong("ip"), .customLong("addresses")],
    help: "IP-address JSON mapping machine id to host. Default: [COMMUNICATION] addresses_filepath.")
  public var ip: String?

  @Option(
    name: [.customLong("procs-per-machine"), .customLong("ps", withSingleDash: true)], help: "Processes per machine.")
  public var procsPerMachine: Int?

  @Option(
    name: [.customLong("iterations"), .customLong("is", withSingleDash: true)],
    help: "Communication rounds (overrides [NODE] iterations).")
  public var iterations: Int?

  public init() {}

  public func validate() throws {
    if let p = procsPerMachine, p < 1 { throw ValidationError("--procs-per-machine must be at least 1, got \(p)") }
    if let i = iterations, i < 1 || i > ConfigLimits.iterations {
      throw ValidationError("--iterations must be between 1 and \(ConfigLimits.iterations), got \(i)")
    }
  }
}
