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
  /// The formats a file can be written in (`auto` is only for reading).
  enum FileFormat: String, ExpressibleByArgument, CaseIterable {
    case edges, adjacency
    var graphFormat: GraphFormat { self == .edges ? .edges : .adjacency }
  }

  @Option(help: "File format: edges or adjacency.")
  var format: FileFormat = .edges
  @Option(name: [.short, .customLong("output")], help: "Where to write the graph (default: standard output).")
  var output: String?

  func validate() throws {
    if nodes < 1 || nodes > Graph.maximumNodeCount {
      throw ValidationError("--nodes must be between 1 and \(Graph.maximumNodeCount), got \(nodes)")
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
    let text = graph.serialized(format: format.graphFormat)
    if let output {
      do { try FileSystem.write(Array(text.utf8), to: output, for: "write the graph file") } catch {
        throw fail("graph: \(error)")
      }
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

  @Option(name: [.customLong("graph"), .customLong("gf", withSingleDash: true)], help: "Graph file.")
  var graph: String
  @Option(
    name: [.customLong("graph-type"), .customLong("format")],
    help: "Format: \(GraphFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
  var format: GraphFormat = .auto
  @Flag(help: "Print only the node count (no warnings).")
  var nodesOnly = false

  func run() throws {
    do {
      let file = try GraphFile.read(path: graph, format: format)
      let g = file.graph
      if nodesOnly {
        print(g.nodeCount)
      } else {
        for w in file.warnings { print("warning: \(w)") }
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
