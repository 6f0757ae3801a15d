import ArgumentParser
import Config
import Datasets
import Foundation
import Learning
import PeerdCLI
import Topology

struct CheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract:
      "Validate a config (and optionally graph, IP file and data) exactly as peerd would, without starting anything.",
    discussion:
      "Warnings (unknown keys, duplicate edges, a disconnected graph) are printed as 'warning: …' lines and do not "
      + "change the exit code. Exit codes: 0 valid, 2 invalid (one line names the file, line and key).")

  /// A single resolved value `--print` writes instead of the summary.
  enum PrintValue: String, ExpressibleByArgument, CaseIterable {
    case iterations
    case basePort = "base-port"
    /// The canonical name of `[NODE] algorithm` (the launcher starts a FedAvg server for `fedavg`).
    case algorithm
  }

  @OptionGroup var files: RunOptions
  @Option(name: [.customLong("graph"), .customLong("gf", withSingleDash: true)], help: "Graph file.")
  var graph: String?
  @Option(
    help:
      "Print one resolved value instead of a summary: \(PrintValue.allCases.map(\.rawValue).joined(separator: ", ")).")
  var print: PrintValue?
  @Option(help: "The uid to check with --graph (default 0; FedAvg's server, the graph's node count, is checked too).")
  var uid: Int?

  func run() throws {
    do {
      let cfg = try RunConfiguration.load(path: files.config)
      switch print {
      case .iterations:
        Swift.print(files.iterations ?? cfg.node.iterations)
        return
      case .basePort:
        Swift.print(cfg.communication.basePort)
        return
      case .algorithm:
        Swift.print(try NodePlan.fromConfig(cfg, configPath: files.config, uid: 0, totalNodes: 1).algorithm)
        return
      case nil:
        break
      }
      var plan = try NodePlan.fromConfig(cfg, configPath: files.config, uid: uid ?? 0, totalNodes: 1)
      var server: NodePlan?
      var hosts: [String]?
      if let graph {
        func resolve(_ u: Int) throws -> NodePlan {
          try NodePlan.resolve(
            NodeRequest(
              configPath: files.config, graphPath: graph, graphFormat: files.graphType.rawValue, ipPath: files.ip,
              uid: u, procsPerMachine: files.procsPerMachine, logDir: NSTemporaryDirectory()))
        }
        plan = try resolve(uid ?? 0)
        if let s = plan.serverUID, s != plan.uid { server = try resolve(s) }
        let ipPath =
          files.ip ?? cfg.communication.addressesFilepath.map { NodePlan.resolveRelative($0, to: files.config) }
        if let ipPath, let data = FileManager.default.contents(atPath: ipPath) {
          hosts = try AddressBook.parseHosts(data, path: ipPath)
        }
      }
      for w in plan.warnings { Swift.print("warning: \(w)") }
      if let iterations = files.iterations { plan.iterations = iterations }
      let parts = try NodeFactory.prepare(plan)
      if let server { _ = try NodeFactory.prepare(server) }
      Swift.print(
        "\(files.config): ok — \(plan.dataset.name) / \(parts.model.name) (\(parts.model.parameterCount) parameters) / \(plan.optimizer.name) lr \(plan.optimizer.learningRate) / \(plan.algorithm), \(plan.iterations) rounds of \(plan.localSteps) \(plan.fullEpochs ? "epochs" : "steps")"
          + (graph.map { " — graph \($0): \(plan.totalNodes) nodes" } ?? "")
          + (plan.serverUID.map { " + the FedAvg server, uid \($0) (machine 0, port base_port + \($0))" } ?? ""))
      let g = try graph.map { try Graph.read(path: $0, format: files.graphType) }
      for line in try RunPreview.lines(plan: plan, graph: g, hosts: hosts, procsPerMachine: files.procsPerMachine) {
        Swift.print(line)
      }
    } catch {
      throw fail("check: \(error)")
    }
  }
}

struct PartitionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "partition", abstract: "Show every node's sample count and label histogram before launching.")

  @Option(help: "INI config file.")
  var config: String
  @Option(help: "Number of nodes.")
  var nodes: Int

  func validate() throws { if nodes < 1 { throw ValidationError("--nodes must be at least 1") } }

  func run() throws {
    do {
      let cfg = try RunConfiguration.load(path: config)
      let plan = try NodePlan.fromConfig(cfg, configPath: config, uid: 0, totalNodes: nodes)
      let rows = try DatasetRegistry.summary(plan.dataset, nodes: nodes)
      let classes = rows.first?.labelHistogram.count ?? 0
      var header = "node   train    test"
      if classes > 0 { header += "  " + (0..<classes).map { String(format: "%6d", $0) }.joined() + "  classes" }
      Swift.print("\(plan.dataset.name), \(nodes) nodes, partition \(plan.dataset.partition)")
      Swift.print(header)
      for r in rows {
        var line = String(format: "%4d  %6d  %6d", r.node, r.trainCount, r.testCount)
        if classes > 0 {
          line += "  " + r.labelHistogram.map { String(format: "%6d", $0) }.joined()
          line += String(format: "  %7d", r.labelHistogram.filter { $0 > 0 }.count)
        }
        Swift.print(line)
      }
    } catch {
      throw fail("partition: \(error)")
    }
  }
}

struct DataCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data",
    abstract: "Tell whether a dataset is found ($PEERD_DATA, ./data, ../shared/data); exit 1 if not.")

  @Argument(help: "Dataset folder: mnist, fashion-mnist, movielens/ml-latest-small.")
  var name: String
  @Flag(help: "Print nothing; only the exit status.")
  var quiet = false

  func run() throws {
    if let found = DataLocator.resolve(name) {
      if !quiet { Swift.print(found) }
    } else {
      if !quiet { Swift.print("\(name): not found; run scripts/download_datasets.sh") }
      throw ExitCode(1)
    }
  }
}
