import Config
import Datasets
import Foundation
import Models
import Numerics
import Sharing
import Topology

/// Turning files and flags into a validated `NodePlan`: every input error surfaces here, before a
/// socket opens, as one line naming the file, line or key.
extension NodePlan {
  public static func resolve(_ request: NodeRequest) throws -> NodePlan {
    let config = try RunConfiguration.load(path: request.configPath)
    guard let format = GraphFormat(rawValue: request.graphFormat.lowercased()) else {
      throw PlanError(
        "--graph-type \(quote(request.graphFormat)) is not a graph format; expected one of \(GraphFormat.allCases.map(\.rawValue).joined(separator: ", "))",
        kind: .badFlag)
    }
    if let level = request.logLevel, LogLevel(name: level) == nil {
      throw PlanError(
        "--log-level \(quote(level)) is not a log level; expected one of \(LogLevel.names)", kind: .badFlag)
    }
    let graphFile = try GraphFile.read(path: request.graphPath, format: format)
    let graph = graphFile.graph

    guard
      let ipPath = request.ipPath
        ?? config.communication.addressesFilepath.map({ resolveRelative($0, to: request.configPath) })
    else {
      throw PlanError("no IP-address file: pass --ip or set [COMMUNICATION] addresses_filepath")
    }
    guard let ipData = FileManager.default.contents(atPath: ipPath) else {
      throw AddressBookError(.unreadable, "\(ipPath): cannot read the IP-address file (missing or unreadable)")
    }
    let hosts = try AddressBook.parseHosts(ipData, path: ipPath)
    if let m = request.machines, m != hosts.count {
      throw PlanError("--machines says \(m) but \(ipPath) lists \(hosts.count) machine(s)")
    }
    let procs = request.procsPerMachine ?? (graph.nodeCount / hosts.count)
    let book = try AddressBook(hosts: hosts, procsPerMachine: procs, basePort: config.communication.basePort)
    guard book.totalNodes == graph.nodeCount else {
      throw PlanError(
        "\(request.graphPath) has \(graph.nodeCount) nodes but \(hosts.count) machine(s) × \(procs) procs = \(book.totalNodes)"
      )
    }
    let uid: Int
    if let u = request.uid {
      uid = u
    } else if let m = request.machineID, let r = request.rank {
      guard m >= 0 && m < hosts.count else {
        throw PlanError("--machine-id \(m) is not in \(ipPath) (0…\(hosts.count - 1))")
      }
      guard r >= 0 && r < procs else { throw PlanError("--rank \(r) must be in 0…\(procs - 1)") }
      uid = book.uid(machine: m, rank: r)
    } else {
      throw PlanError("give --uid, or --machine-id and --rank")
    }
    try checkAttackers(config, graphNodes: graph.nodeCount)
    var plan = try fromConfig(config, configPath: request.configPath, uid: uid, totalNodes: graph.nodeCount)
    plan.warnings += graphFile.warnings.map(\.description)
    try plan.place(in: graph, book: book, keys: config.node.algorithmKeys)
    let lastPort = config.communication.basePort + book.totalNodes + (plan.serverUID == nil ? -1 : 0)
    if let w = EphemeralPorts.overlapWarning(ports: config.communication.basePort...lastPort) {
      plan.warnings.append(w)
    }
    if let it = request.iterations { plan.iterations = it }
    if let t = request.testAfter { plan.testAfter = t }
    if let t = request.trainEvaluateAfter { plan.trainEvaluateAfter = t }
    if let l = request.logLevel { plan.logLevel = l }
    if let r = request.resetOptimizer { plan.resetOptimizer = r }
    plan.placeFiles(in: request.logDir, saveWeights: config.node.saveWeights)
    if config.communication.security == "curve", let dir = config.communication.curveKeys {
      plan.security = try CurveKeyFiles.load(
        dir: resolveRelative(dir, to: request.configPath), uid: uid, peers: Array(plan.endpoints.keys).sorted())
    }
    return plan
  }

  /// The plan a config describes for node `uid` of `totalNodes`, without network placement.
  public static func fromConfig(_ c: RunConfiguration, configPath: String, uid: Int, totalNodes: Int) throws -> NodePlan
  {
    let d = c.dataset
    /// The canonical name a class reference resolves to in its registry. An unsupported class is
    /// an error at the line of its `_class` key (or of its `_package` key when the class came
    /// from the package name), listing what the registry supports.
    func resolve<M>(
      _ name: String, in registry: Registry<M>, _ section: String, _ key: String, package: String? = nil
    ) throws -> String {
      if let entry = registry.entry(named: name) { return entry.name }
      let located =
        c.document.entry(section, key) == nil && package.map { c.document.entry(section, $0) != nil } == true
      throw c.error(
        .unsupported, section: section, key: located ? package! : key,
        "\(quote(name)) is not supported; supported: \(registry.names.joined(separator: ", "))")
    }
    let datasetName = try resolve(
      d.datasetClass.className, in: DatasetRegistry.registry, "DATASET", "dataset_class", package: "dataset_package")
    let modelName = try resolve(
      d.modelClass.className, in: ModelRegistry.registry, "DATASET", "model_class", package: "model_package")
    let optimizerName = try resolve(
      c.optimizer.optimizerClass.className, in: OptimizerRegistry.registry, "OPTIMIZER_PARAMS", "optimizer_class",
      package: "optimizer_package")
    let sharingName = try resolve(
      c.sharing.sharingClass.className, in: SharingRegistry.registry, "SHARING", "sharing_class",
      package: "sharing_package")
    let lossName = try resolve(
      c.train.lossClass.className, in: LossKind.registry, "TRAIN_PARAMS", "loss_class", package: "loss_package")
    let algorithmName = try resolve(c.node.algorithm, in: AlgorithmRegistry.registry, "NODE", "algorithm")
    guard c.communication.commClass == "TCP" else {
      throw c.error(
        .unsupported, section: "COMMUNICATION",
        key: c.document.entry("COMMUNICATION", "comm_class") == nil ? "comm_package" : "comm_class",
        "\(quote(c.communication.commClass)) is not supported; supported: TCP")
    }

    var dataset = DatasetSettings(
      name: datasetName, trainDir: d.trainDir, testDir: d.testDir, imagesDir: d.imagesDir,
      seed: UInt64(truncatingIfNeeded: d.randomSeed), cacheDirectory: d.cacheDir)
    switch d.partition {
    case .iid: dataset.partition = d.sizes.map { .sizes($0) } ?? .iid
    case .shards: dataset.partition = .shards(perNode: d.shards)
    case .dirichlet: dataset.partition = .dirichlet(alpha: d.dirichletAlpha)
    case .classes: dataset.partition = .classesPerNode(d.classesPerNode)
    }
    if d.validationSize > 0 {
      dataset.validation = ValidationSplit(
        source: d.validationSource.lowercased() == "test" ? .test : .train, fraction: d.validationSize)
    }
    guard let kind = SyntheticSettings.Kind(rawValue: d.syntheticKind.lowercased()) else {
      throw c.error(
        .unsupported, section: "DATASET", key: "synthetic_kind",
        "\(quote(d.syntheticKind)) is not supported; supported: gaussian, leaf")
    }
    dataset.synthetic.kind = kind
    dataset.synthetic.alpha = d.syntheticAlpha
    dataset.synthetic.beta = d.syntheticBeta
    if let n = d.samplesPerNode { dataset.synthetic.samplesPerNode = n }
    if let n = d.testSamples { dataset.synthetic.testSamples = n }

    let model = ModelSettings(
      name: modelName, hiddenSizes: d.hiddenSizes ?? [200, 200], embeddingDimension: d.embeddingDim,
      loss: LossKind(rawValue: lossName))
    let o = c.optimizer
    let optimizer = OptimizerSettings(
      name: optimizerName, learningRate: Float(o.lr), momentum: Float(o.momentum),
      weightDecay: Float(o.weightDecay), nesterov: o.nesterov, dampening: Float(o.dampening), beta1: Float(o.betas[0]),
      beta2: Float(o.betas[1]), epsilon: Float(o.eps))
    let sh = c.sharing
    let sharing = SharingSettings(
      name: sharingName, alpha: sh.alpha, alphaList: sh.alphaList, accumulation: sh.accumulation,
      accumulateAveragingChanges: sh.accumulateAveragingChanges, metadataCap: sh.metadataCap, compress: sh.compress,
      bits: sh.bits, blockSize: sh.blockSize, stepSize: sh.stepSize,
      partialAveraging: sh.partialAveraging.flatMap(PartialAveraging.init(rawValue:)))

    var plan = NodePlan(
      uid: uid, totalNodes: totalNodes, neighbours: [], bindEndpoint: "", endpoints: [:],
      seed: UInt64(truncatingIfNeeded: d.randomSeed), dataset: dataset, model: model, optimizer: optimizer,
      sharing: sharing, algorithm: algorithmName, iterations: c.node.iterations,
      localSteps: c.train.rounds, fullEpochs: c.train.fullEpochs, batchSize: c.train.batchSize,
      shuffle: c.train.shuffle,
      resetOptimizer: c.node.resetOptimizer, testAfter: c.node.testAfter, trainEvaluateAfter: c.node.trainEvaluateAfter,
      evaluationBatchSize: c.node.evalBatchSize, peerTimeout: c.node.peerTimeout, startTimeout: c.node.startTimeout,
      logLevel: c.node.logLevel)
    plan.warnings = c.warnings
    plan.isolationLimit = c.node.isolationLimit
    plan.checkpointEvery = c.node.checkpointEvery
    plan.stepPause = c.node.stepPause
    let keys = c.node.algorithmKeys
    var a = AlgorithmSettings()
    a.rwmTimeout = keys.rwmTimeout ?? c.node.peerTimeout
    a.swarmAlpha = keys.swarmAlpha
    a.swarmBeta = keys.swarmBeta
    a.swarmGamma = keys.swarmGamma
    a.syncTimeout = keys.syncTimeout
    a.clientsPerRound = keys.clientsPerRound
    if let f = keys.clientFraction { a.clientFraction = f }
    a.roundDeadline = keys.roundDeadline ?? c.node.peerTimeout
    a.elFanout = keys.elFanout
    plan.algorithmSettings = a
    plan.slowdown = keys.slowNodes[uid] ?? 1
    plan.evaluateBeforeTraining = c.node.evaluateAtStart
    try applyDefences(c, sharingName: sharingName, to: &plan)
    return plan
  }

  /// Where this node's files go under `dir`: `<uid>.log`, `<uid>_results.json`,
  /// `<uid>_events.jsonl`, `<uid>.checkpoint` and (optionally) `<uid>_model.bin`.
  public mutating func placeFiles(in dir: String, saveWeights: Bool = true) {
    func file(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
    resultsPath = file("\(uid)_results.json")
    eventsPath = file("\(uid)_events.jsonl")
    logPath = file("\(uid).log")
    checkpointPath = file("\(uid).checkpoint")
    weightsPath = saveWeights ? file("\(uid)_model.bin") : nil
  }

  public static func resolveRelative(_ path: String, to configPath: String) -> String {
    if path.hasPrefix("/") || FileManager.default.fileExists(atPath: path) { return path }
    let besideConfig = ((configPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path)
    return FileManager.default.fileExists(atPath: besideConfig) ? besideConfig : path
  }
}

/// `name` quoted for a message, at most 40 characters of it.
private func quote(_ name: String) -> String { MessageText.quote(name) }

/// A cross-file inconsistency (graph vs IP file vs flags), or a node that cannot run.
public struct PlanError: Error, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// The graph, the IP file and the flags disagree (node counts, uid, machine id).
    case inconsistent
    /// A flag value that names nothing (`--graph-type csv`).
    case badFlag
    /// A node with no training samples, or no test samples while it is asked to test.
    case emptyShard
  }

  public var kind: Kind
  public var description: String
  public init(_ description: String, kind: Kind = .inconsistent) {
    self.kind = kind
    self.description = description
  }
}
