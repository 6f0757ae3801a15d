import ArgumentParser
import Foundation
import Learning
import Numerics
import Topology

struct GraphCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "graph", abstract: "Generate a graph file (seeded) and print its degree statistics.")

  enum Kind: String, ExpressibleByArgument, CaseIterable {
    case regular, ring, full, star
    case smallWorld = "small-world"
    case erdosRenyi = "erdos-renyi"
  }

  @Option(help: "Graph type: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
  var type: Kind = .regular
  @Option(help: "Number of nodes.")
  var nodes: Int
  @Option(help: "Degree (regular), or neighbours per node k (small-world, even).")
  var degree: Int = 4
  @Option(help: "Rewiring probability (small-world) or edge probability (erdos-renyi).")
  var p: Double = 0.1
  @Option(help: "Seed for the random generators.")
  var seed: UInt64 = 1
  @Option(help: "File format: edges or adjacency.")
  var format: String = "edges"
  @Option(name: [.short, .customLong("output")], help: "Where to write the graph (default: standard output).")
  var output: String?

  func validate() throws {
    if nodes < 1 { throw ValidationError("--nodes must be at least 1") }
    if GraphFormat(rawValue: format) == nil || format == "auto" {
      throw ValidationError("--format is edges or adjacency")
    }
  }

  func run() throws {
    var rng = Xoshiro256(seed: seed)
    let graph: Graph
    do {
      switch type {
      case .regular: graph = try Graph.regular(nodes: nodes, degree: degree, rng: &rng)
      case .ring: graph = Graph.ring(nodes: nodes)
      case .full: graph = Graph.fullyConnected(nodes: nodes)
      case .star: graph = Graph.star(nodes: nodes)
      case .smallWorld: graph = try Graph.smallWorld(nodes: nodes, k: degree, p: p, rng: &rng)
      case .erdosRenyi: graph = try Graph.erdosRenyi(nodes: nodes, p: p, rng: &rng)
      }
    } catch {
      throw fail("graph: \(error)")
    }
    let text = graph.serialized(format: GraphFormat(rawValue: format)!)
    if let output {
      try text.write(toFile: output, atomically: true, encoding: .utf8)
      print(
        "\(output): \(graph.nodeCount) nodes, \(graph.edgeCount) edges, \(graph.degreeStatistics), connected: \(graph.isConnected)"
      )
    } else {
      print(text, terminator: "")
    }
  }
}

struct GraphInfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "graph-info", abstract: "Read a graph file and print its statistics.")

  @Option(help: "Graph file.")
  var graph: String
  @Option(help: "Format: edges, adjacency or auto.")
  var format: String = "auto"
  @Flag(help: "Print only the node count.")
  var nodesOnly = false

  func run() throws {
    do {
      let g = try Graph.read(path: graph, format: GraphFormat(rawValue: format) ?? .auto)
      if nodesOnly {
        print(g.nodeCount)
      } else {
        print(
          "\(graph): \(g.nodeCount) nodes, \(g.edgeCount) edges, \(g.degreeStatistics), connected: \(g.isConnected)")
      }
    } catch {
      throw fail("graph-info: \(error)")
    }
  }
}

struct HostsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hosts", abstract: "List the machines of an IP-address JSON as 'id host' lines.")

  @Option(help: "IP-address JSON mapping machine id to host.")
  var ip: String

  func run() throws {
    guard let data = FileManager.default.contents(atPath: ip) else {
      throw fail("hosts: \(ip): cannot read the IP-address file")
    }
    do {
      for (id, host) in try AddressBook.parseHosts(data, path: ip).enumerated() { print("\(id) \(host)") }
    } catch {
      throw fail("hosts: \(error)")
    }
  }
}
