import Datasets
import Foundation
import Topology

/// What a run will do, said before anything starts (`peerctl check`, which the launcher calls):
/// the algorithm and sharing method, the rounds and evaluations, the dataset and how it is split,
/// the graph, and which nodes run on which machine on which ports.
public enum RunPreview {
  /// Lines describing the run `plan` (resolved for node 0) belongs to. `graph` and `hosts` are
  /// the run's, when known; the partition is computed as every node will compute it.
  public static func lines(plan: NodePlan, graph: Graph?, hosts: [String]?, procsPerMachine: Int?) throws -> [String] {
    var out: [String] = []
    let sharing = RunReport.label(algorithm: plan.algorithm, sharing: plan.sharing.name)
    out.append("  algorithm   \(sharing) (algorithm = \(plan.algorithm), sharing_class = \(plan.sharing.name))")
    var rounds =
      "  rounds      \(plan.iterations), each \(plan.localSteps) local \(plan.fullEpochs ? "epoch" : "step")\(plan.localSteps == 1 ? "" : "s") at batch \(plan.batchSize)"
    rounds += "; " + evaluation(every: plan.testAfter, what: "test set", atStart: plan.evaluateBeforeTraining)
    rounds +=
      "; " + evaluation(every: plan.trainEvaluateAfter, what: "train loss", atStart: plan.evaluateBeforeTraining)
    out.append(rounds)
    let nodes = graph?.nodeCount ?? plan.totalNodes
    var data = "  dataset     \(plan.dataset.name), partition \(plan.dataset.partition)"
    if graph != nil { data += " over \(nodes) nodes" }
    // The split as every node computes it (the whole graph's; skipped past 1024 nodes, where it
    // takes a while).
    if graph != nil && nodes <= 1024 {
      let shards = try DatasetRegistry.summary(plan.dataset, nodes: nodes)
      func spread(_ xs: [Int]) -> String {
        let s = xs.sorted()
        return s.first == s.last ? "\(s.first ?? 0)" : "\(s.first!)–\(s.last!) (median \(s[s.count / 2]))"
      }
      data += ": train samples per node \(spread(shards.map(\.trainCount))), test \(spread(shards.map(\.testCount)))"
      if let first = shards.first, !first.labelHistogram.isEmpty {
        data += ", classes per node \(spread(shards.map { $0.labelHistogram.filter { $0 > 0 }.count }))"
      }
    }
    out.append(data)
    if let graph {
      let d = graph.degreeStatistics
      out.append(
        "  graph       \(graph.nodeCount) nodes, \(graph.edgeCount) edges, \(d), \(graph.isConnected ? "connected" : "NOT connected")"
      )
    }
    if let hosts, !hosts.isEmpty {
      let ppm = procsPerMachine ?? max(1, nodes / hosts.count)
      let base = Self.port(of: plan.endpoints[0]) ?? 0
      out.append("  machines    \(hosts.count) × \(ppm) nodes")
      for (m, host) in hosts.enumerated() {
        let first = m * ppm
        let last = first + ppm - 1
        out.append("    machine \(m)  \(host)  nodes \(first)–\(last)  ports \(base + first)–\(base + last)")
      }
    }
    return out
  }

  static func evaluation(every n: Int, what: String, atStart: Bool) -> String {
    guard n > 0 else { return "no \(what) evaluation" }
    return "\(what) every \(n) round\(n == 1 ? "" : "s")\(atStart ? " and at round 0" : "") and at the last"
  }

  static func port(of endpoint: String?) -> Int? {
    endpoint.flatMap { $0.split(separator: ":").last }.flatMap { Int($0) }
  }
}
