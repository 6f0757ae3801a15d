import Datasets
import Logging
import Models
import Numerics
import Sharing
import Transport

/// Builds a ready-to-run `Node` from a plan: loads the shard, creates the model (the same
/// initial weights on every node, from the `init` stream), the optimizer, the sharing strategy
/// and the algorithm.
///
/// Everything that can fail because of user input fails here, before the transport exists, so a
/// bad config or dataset exits with code 2 and never leaves a half-open socket.
public enum NodeFactory {
  /// The pieces of a node that do not depend on the network.
  public struct Parts {
    public var data: NodeShard
    public var model: any Model
    public var optimizer: any Optimizer
    public var sharing: any SharingStrategy
    public var algorithm: any Algorithm
  }

  public static func prepare(_ plan: NodePlan) throws -> Parts {
    let data = try shard(plan)
    // The readers and the partitioner refuse empty shards; this holds for any source. A FedAvg
    // server trains nothing by design.
    guard data.train.count > 0 || plan.role == .server else {
      throw PlanError("node \(plan.uid) has no training samples", kind: .emptyShard)
    }
    guard data.test.count > 0 || plan.testAfter == 0 else {
      throw PlanError(
        "node \(plan.uid) has no test samples to evaluate every \(plan.testAfter) rounds; set test_after = 0 or give it test data",
        kind: .emptyShard)
    }
    var modelSettings = plan.model
    completeModelSettings(&modelSettings, from: data.metadata)
    var initRNG = RandomStreams(seed: plan.seed).stream(.initialization)
    let model = try ModelRegistry.make(modelSettings, rng: &initRNG)
    let optimizer = try OptimizerRegistry.make(plan.optimizer, parameterCount: model.parameterCount)
    try checkFractions(plan.sharing, parameterCount: model.parameterCount, model: model.name)
    var sharingSettings = plan.sharing
    sharingSettings.seed = plan.seed
    sharingSettings.uid = plan.uid
    if plan.role == .server {
      // FedAvg's server never trains: its model changes only by averaging, so PartialModel's
      // "change since the last averaging" is zero everywhere and it would send the same first
      // alpha·P parameters every round (ties go by index), the rest of the global model never
      // reaching a client. It ranks what averaging changed since each parameter was last
      // shared instead (docs/algorithms.md, "Sharing methods under each algorithm").
      sharingSettings.accumulation = true
      sharingSettings.accumulateAveragingChanges = true
    }
    let sharing = try SharingRegistry.make(sharingSettings, initialModel: model.parameters)
    let algorithm = try AlgorithmRegistry.make(plan.algorithm, settings: plan.algorithmSettings)
    return Parts(data: data, model: model, optimizer: optimizer, sharing: sharing, algorithm: algorithm)
  }

  /// The node's data. A FedAvg server trains nothing and evaluates the global model on the whole
  /// run's test set: the loader's one-node split, whose test part is every node's test data (the
  /// global test set, or all users' held-out ratings for MovieLens).
  static func shard(_ plan: NodePlan) throws -> NodeShard {
    guard plan.role == .server else {
      return try DatasetRegistry.load(plan.dataset, node: plan.uid, nodes: plan.totalNodes)
    }
    var settings = plan.dataset
    settings.partition = .iid  // one node: the split is moot, and `sizes` lists the clients'
    var whole = try DatasetRegistry.load(settings, node: 0, nodes: 1)
    whole.train = SubsetSource(base: whole.train, indices: [])
    return whole
  }

  /// Strategies that send round(alpha · P) parameters, and where they read alpha from.
  static let fractionalStrategies: Set<String> = [
    "PartialModel", "RandomAlpha", "SubSampling", "TopK", "Quantize", "Choco",
  ]

  /// A fraction that selects no parameter of this model would send empty shares every round: an
  /// error, like any other value outside its range (the config reader cannot know P).
  static func checkFractions(_ s: SharingSettings, parameterCount p: Int, model: String) throws {
    guard fractionalStrategies.contains(s.name) else { return }
    let fractions =
      s.name == "RandomAlpha" ? (s.alphaList.isEmpty ? SharingSettings.defaultAlphaList : s.alphaList) : [s.alpha]
    let key = s.name == "RandomAlpha" ? "alpha_list" : "alpha"
    for a in fractions where Int((a * Double(p)).rounded(.toNearestOrEven)) == 0 {
      throw PlanError(
        "[SHARING] \(key): \(a) selects none of the \(p) parameters of \(model) (round(\(a) × \(p)) = 0); the smallest fraction that sends one is \(String(format: "%.3g", 0.5 / Double(p) * 1.0001))"
      )
    }
  }

  /// Fills what the model needs to know about the data (input shape, classes, users, items)
  /// when the config did not say.
  static func completeModelSettings(_ s: inout ModelSettings, from meta: DatasetMetadata) {
    if s.inputShape.isEmpty { s.inputShape = meta.inputShape }
    if s.classes <= 0 { s.classes = meta.classCount }
    if s.users <= 0 { s.users = meta.users }
    if s.items <= 0 { s.items = meta.items }
  }

  public static func makeNode(
    _ plan: NodePlan, parts: Parts, transport: any MessageTransport, clock: any Clock, log: Logger
  ) -> Node {
    Node(
      plan: plan, model: parts.model, optimizer: parts.optimizer, data: parts.data, sharing: parts.sharing,
      transport: transport, clock: clock, algorithm: parts.algorithm, log: log)
  }
}
