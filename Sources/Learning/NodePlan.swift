import Datasets
import Models
import Sharing
import Transport

/// Everything one node needs to run, resolved and validated before any socket opens.
///
/// Built from an INI config, a graph, an address book and the command line by
/// `NodePlan.resolve(...)` (NodePlan+Config.swift). A plan is a value: tests build one directly.
public struct NodePlan: Sendable {
  public var uid: Int
  /// Nodes of the graph (the peers, uids 0..<peerCount); the data is split among them.
  public var totalNodes: Int
  public var neighbours: [Int]
  public var role: NodeRole = .peer
  /// FedAvg's server, when the run has one: uid `totalNodes`.
  public var serverUID: Int?
  /// Peers this node exchanges heartbeats with besides its graph neighbours (a FedAvg server and
  /// its clients).
  public var heartbeatPeers: [Int] = []
  /// Peers of the run are uids 0..<peerCount.
  public var peerCount: Int { totalNodes }
  /// This node's ROUTER endpoint: its host from the IP JSON and its port, e.g. `tcp://10.0.0.2:20003`.
  public var bindEndpoint: String
  /// Every node's endpoint by uid (neighbours are connected; others on demand).
  public var endpoints: [Int: String]
  /// Plaintext, or CURVE with this node's keys and every peer's public key.
  public var security: TransportSecurity = .plaintext

  public var seed: UInt64
  public var dataset: DatasetSettings
  public var model: ModelSettings
  public var optimizer: OptimizerSettings
  public var sharing: SharingSettings
  public var algorithm: String
  public var algorithmSettings = AlgorithmSettings()

  public var iterations: Int
  /// `rounds`: local steps (or epochs with `fullEpochs`) per iteration.
  public var localSteps: Int
  public var fullEpochs: Bool
  public var batchSize: Int
  public var shuffle: Bool
  public var resetOptimizer: Bool
  public var testAfter: Int
  public var trainEvaluateAfter: Int
  public var evaluationBatchSize: Int
  public var evaluateBeforeTraining: Bool

  public var peerTimeout: Double
  public var startTimeout: Double
  /// Share of its rounds a node may average with nobody before it exits as isolated (code 4).
  public var isolationLimit: Double = 0.5
  /// Checkpoint every this many rounds (0: only when stopped by a signal).
  public var checkpointEvery: Int = 0
  /// Seconds of the node's clock to let pass after every local step, on top of the step itself:
  /// emulates slower hardware (stragglers), and gives local work a duration on the embedded
  /// network's virtual clock, where computing takes no time.
  public var stepPause: Double = 0
  /// This node computes this many times slower than it would (`[NODE] slow_nodes`): after each
  /// local step it sleeps (slowdown − 1) × the step's own measured time, pause included.
  public var slowdown: Double = 1

  /// `<log dir>/<uid>_results.json`, or nil to write none.
  public var resultsPath: String?
  /// `<log dir>/<uid>_events.jsonl`, or nil.
  public var eventsPath: String?
  /// `<log dir>/<uid>.checkpoint`, or nil to write none.
  public var checkpointPath: String?
  /// `<log dir>/<uid>_model.bin`, or nil to skip the final weights dump.
  public var weightsPath: String?
  public var logPath: String?
  public var logLevel: String
  /// Non-fatal findings while resolving (unknown config keys), logged at start.
  public var warnings: [String] = []

  public init(
    uid: Int, totalNodes: Int, neighbours: [Int], bindEndpoint: String, endpoints: [Int: String], seed: UInt64,
    dataset: DatasetSettings, model: ModelSettings, optimizer: OptimizerSettings, sharing: SharingSettings,
    algorithm: String = "dpsgd", iterations: Int, localSteps: Int, fullEpochs: Bool = false, batchSize: Int,
    shuffle: Bool = true, resetOptimizer: Bool = false, testAfter: Int, trainEvaluateAfter: Int = 0,
    evaluationBatchSize: Int = 1024, evaluateBeforeTraining: Bool = false, peerTimeout: Double = 30,
    startTimeout: Double = 60, resultsPath: String? = nil, weightsPath: String? = nil, logPath: String? = nil,
    logLevel: String = "info"
  ) {
    self.uid = uid
    self.totalNodes = totalNodes
    self.neighbours = neighbours
    self.bindEndpoint = bindEndpoint
    self.endpoints = endpoints
    self.seed = seed
    self.dataset = dataset
    self.model = model
    self.optimizer = optimizer
    self.sharing = sharing
    self.algorithm = algorithm
    self.iterations = iterations
    self.localSteps = localSteps
    self.fullEpochs = fullEpochs
    self.batchSize = batchSize
    self.shuffle = shuffle
    self.resetOptimizer = resetOptimizer
    self.testAfter = testAfter
    self.trainEvaluateAfter = trainEvaluateAfter
    self.evaluationBatchSize = evaluationBatchSize
    self.evaluateBeforeTraining = evaluateBeforeTraining
    self.peerTimeout = peerTimeout
    self.startTimeout = startTimeout
    self.resultsPath = resultsPath
    self.weightsPath = weightsPath
    self.logPath = logPath
    self.logLevel = logLevel
  }
}
