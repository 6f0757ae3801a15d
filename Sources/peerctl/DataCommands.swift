import ArgumentParser
import Config
import Datasets
import Foundation
import Learning

struct CheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract:
      "Validate a config (and optionally graph, IP file and data) exactly as peerd would, without starting anything.")

  @Option(help: "INI config file.")
  var config: String
  @Option(help: "Graph file.")
  var graph: String?
  @Option(help: "IP-address JSON.")
  var ip: String?
  @Option(help: "Processes per machine.")
  var procsPerMachine: Int?
  @Option(help: "Overrides [NODE] iterations.")
  var iterations: Int?
  @Option(help: "Print one resolved value instead of a summary: iterations, base-port.")
  var print: String?

  func validate() throws {
    if let print, !["iterations", "base-port"].contains(print) {
      throw ValidationError("--print takes iterations or base-port, got '\(print)'")
    }
  }

  func run() throws {
    do {
      let cfg = try RunConfiguration.load(path: config)
      if print == "iterations" {
        Swift.print(iterations ?? cfg.node.iterations)
        return
      }
      if print == "base-port" {
        Swift.print(cfg.communication.basePort)
        return
      }
      for w in cfg.warnings { Swift.print("warning: \(w)") }
      var plan = try NodePlan.fromConfig(cfg, configPath: config, uid: 0, totalNodes: 1)
      if let graph {
        plan = try NodePlan.resolve(
          NodeRequest(
            configPath: config, graphPath: graph, ipPath: ip, uid: 0, procsPerMachine: procsPerMachine,
            logDir: NSTemporaryDirectory()))
      }
      if let iterations { plan.iterations = iterations }
      let parts = try NodeFactory.prepare(plan)
      Swift.print(
        "\(config): ok — \(plan.dataset.name) / \(parts.model.name) (\(parts.model.parameterCount) parameters) / \(plan.optimizer.name) lr \(plan.optimizer.learningRate) / \(plan.algorithm), \(plan.iterations) rounds of \(plan.localSteps) \(plan.fullEpochs ? "epochs" : "steps")"
          + (graph.map { " — graph \($0): \(plan.totalNodes) nodes" } ?? ""))
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
