/// How the training data is split across nodes (`[DATASET] partition_niid`).
public enum PartitionMode: String, Sendable {
  /// Shuffle and split equally, or by `sizes`.
  case iid
  /// decentralizepy's non-IID: sort by label, deal `shards` shards to each node.
  case shards
  /// Label proportions per node drawn from Dirichlet(`alpha`).
  case dirichlet
  /// Each node gets only `classes_per_node` classes.
  case classes
}

/// `[DATASET]`: what data, which model, how it is split.
public struct DatasetSection: Sendable {
  public var datasetClass: ClassReference
  public var modelClass: ClassReference
  public var trainDir: String?
  public var testDir: String?
  public var imagesDir: String?
  /// Fractions per node; nil means equal shares.
  public var sizes: [Double]?
  public var randomSeed: Int
  public var partition: PartitionMode
  public var shards: Int
  public var dirichletAlpha: Double
  public var classesPerNode: Int
  public var validationSource: String
  public var validationSize: Double
  public var syntheticKind: String
  public var syntheticAlpha: Double
  public var syntheticBeta: Double
  public var samplesPerNode: Int?
  public var testSamples: Int?
  public var embeddingDim: Int
  public var hiddenSizes: [Int]?
  public var cacheDir: String?

  init(_ r: inout SectionReader) throws {
    let package = r.nonEmpty("dataset_package")
    guard let ds = ClassReference(package: package, className: r.nonEmpty("dataset_class")) else {
      throw r.error("dataset_class", "required key is missing (e.g. dataset_class = MNIST)", .missing)
    }
    datasetClass = ds
    guard let model = ClassReference(package: r.nonEmpty("model_package"), className: r.nonEmpty("model_class")) else {
      throw r.error("model_class", "required key is missing (e.g. model_class = LogisticRegression)", .missing)
    }
    modelClass = model
    trainDir = r.nonEmpty("train_dir")
    testDir = r.nonEmpty("test_dir")
    imagesDir = r.nonEmpty("images_dir")
    sizes = try r.doubles("sizes")
    randomSeed = try r.int("random_seed", default: 90)
    let niid = r.nonEmpty("partition_niid")?.lowercased() ?? "false"
    switch niid {
    case "false", "no", "0", "iid": partition = .iid
    case "true", "yes", "1", "shards", "kshard", "niid": partition = .shards
    case "dirichlet": partition = .dirichlet
    case "classes", "limited_classes": partition = .classes
    default:
      throw r.error(
        "partition_niid", "expected False, True (shards), dirichlet or classes, got \(INIDocument.excerpt(niid))",
        .unsupported)
    }
    shards = try r.int("shards", default: 2, min: 1, max: ConfigLimits.shards)
    dirichletAlpha = try r.double("dirichlet_alpha") ?? r.double("alpha") ?? 0.5
    if dirichletAlpha <= 0 {
      throw r.error(
        r.entry("dirichlet_alpha") == nil ? "alpha" : "dirichlet_alpha", "must be positive, got \(dirichletAlpha)",
        .outOfRange)
    }
    classesPerNode = try r.int("classes_per_node", default: 2, min: 1, max: ConfigLimits.classesPerNode)
    validationSource = r.nonEmpty("validation_source") ?? "Train"
    guard ["train", "test"].contains(validationSource.lowercased()) else {
      throw r.error(
        "validation_source", "expected Train or Test, got \(INIDocument.excerpt(validationSource))", .unsupported)
    }
    validationSize = try r.double("validation_size", default: 0, expected: "a fraction in [0, 1)") { $0 >= 0 && $0 < 1 }
    syntheticKind = r.nonEmpty("synthetic_kind") ?? "gaussian"
    // Variances of LEAF Synthetic(α, β): a negative one would make every feature NaN.
    syntheticAlpha = try r.double("synthetic_alpha", default: 1, expected: "a variance ≥ 0") { $0 >= 0 }
    syntheticBeta = try r.double("synthetic_beta", default: 1, expected: "a variance ≥ 0") { $0 >= 0 }
    samplesPerNode = try r.int("samples_per_node", min: 1, max: ConfigLimits.samplesPerNode)
    testSamples = try r.int("test_samples", min: 1, max: ConfigLimits.testSamples)
    embeddingDim = try r.int("embedding_dim", default: 20, min: 1, max: ConfigLimits.embeddingDimension)
    hiddenSizes = try r.ints("hidden_sizes")
    if let widths = hiddenSizes {
      // An MLP without hidden layers is LogisticRegression; a width of 0 gives BLAS an empty
      // matrix (OpenBLAS prints "illegal value" and trains nothing).
      guard !widths.isEmpty else {
        throw r.error("hidden_sizes", "give at least one hidden width, like [200, 200]", .outOfRange)
      }
      guard widths.count <= ConfigLimits.hiddenLayers else {
        throw r.error(
          "hidden_sizes", "at most \(ConfigLimits.hiddenLayers) hidden layers, got \(widths.count)", .outOfRange)
      }
      if let bad = widths.first(where: { $0 < 1 || $0 > ConfigLimits.hiddenWidth }) {
        throw r.error(
          "hidden_sizes", "each width must be between 1 and \(ConfigLimits.hiddenWidth), got \(bad)", .outOfRange)
      }
    }
    cacheDir = r.nonEmpty("cache_dir")
    r.accept(["num_classes", "n_procs"])
  }
}

/// `[OPTIMIZER_PARAMS]`: torch.optim-style optimizer and its hyper-parameters.
public struct OptimizerSection: Sendable {
  public var optimizerClass: ClassReference
  public var lr: Double
  public var momentum: Double
  public var weightDecay: Double
  public var nesterov: Bool
  public var dampening: Double
  public var betas: [Double]
  public var eps: Double

  init(_ r: inout SectionReader) throws {
    optimizerClass =
      ClassReference(package: r.nonEmpty("optimizer_package"), className: r.nonEmpty("optimizer_class"))
      ?? ClassReference(package: nil, className: "SGD")!
    guard r.nonEmpty("lr") != nil else { throw r.error("lr", "required key is missing (the learning rate)", .missing) }
    // The optimizers compute in float32: a value that rounds to 0 or infinity there is as
    // wrong as a negative one. torch.optim rejects the same ranges.
    let float32 = "within float32 range (1e-38 to 3e38)"
    lr = try r.double("lr", default: 0, expected: "positive and \(float32)", where: Self.isPositiveFloat32)
    momentum = try r.double("momentum", default: 0, expected: "in [0, 1)") { $0 >= 0 && $0 < 1 }
    weightDecay = try r.double("weight_decay", default: 0, expected: "≥ 0 and \(float32)") {
      $0 == 0 || Self.isPositiveFloat32($0)
    }
    dampening = try r.double("dampening", default: 0, expected: "in [0, 1]") { $0 >= 0 && $0 <= 1 }
    nesterov = try r.bool("nesterov", default: false)
    if nesterov && (momentum == 0 || dampening != 0) {
      throw r.error("nesterov", "Nesterov momentum needs momentum > 0 and dampening = 0", .outOfRange)
    }
    betas = try r.doubles("betas") ?? [0.9, 0.999]
    guard betas.count == 2 else { throw r.error("betas", "expected two numbers like (0.9, 0.999)") }
    guard betas.allSatisfy({ $0 >= 0 && $0 < 1 }) else {
      throw r.error(
        "betas", "each must be in [0, 1), got (\(betas.map { "\($0)" }.joined(separator: ", ")))", .outOfRange)
    }
    eps = try r.double("eps", default: 1e-8, expected: "positive and \(float32)", where: Self.isPositiveFloat32)
  }

  /// Positive, and neither 0 nor infinite once rounded to float32.
  static func isPositiveFloat32(_ v: Double) -> Bool {
    v > 0 && Float(v) >= Float.leastNormalMagnitude && Float(v).isFinite
  }
}

/// `[TRAIN_PARAMS]`: local training between exchanges.
public struct TrainSection: Sendable {
  /// Local steps per round, or epochs per round with `fullEpochs`.
  public var rounds: Int
  public var fullEpochs: Bool
  public var batchSize: Int
  public var shuffle: Bool
  public var lossClass: ClassReference

  init(_ r: inout SectionReader) throws {
    r.accept(["training_package", "training_class"])
    rounds = try r.int("rounds", default: 1, min: 1, max: ConfigLimits.rounds)
    fullEpochs = try r.bool("full_epochs", default: false)
    batchSize = try r.int("batch_size", default: 16, min: 1, max: ConfigLimits.batchSize)
    shuffle = try r.bool("shuffle", default: true)
    lossClass =
      ClassReference(package: r.nonEmpty("loss_package"), className: r.nonEmpty("loss_class"))
      ?? ClassReference(package: nil, className: "CrossEntropyLoss")!
  }
}

/// `[COMMUNICATION]`: addresses and ports.
public struct CommunicationSection: Sendable {
  public var commClass: String
  public var addressesFilepath: String?
  /// Port of uid 0; uid u listens on base_port + u.
  public var basePort: Int
  /// `none` or `curve` (docs/operations.md, "Keys").
  public var security: String
  /// With CURVE: the folder holding `<uid>.key` and `public_keys.json` (`peerctl keys`).
  public var curveKeys: String?

  init(_ r: inout SectionReader) throws {
    commClass =
      ClassReference(package: r.nonEmpty("comm_package"), className: r.nonEmpty("comm_class"))?.className ?? "TCP"
    addressesFilepath = r.nonEmpty("addresses_filepath")
    basePort = try r.int("base_port") ?? r.int("offset") ?? 20000
    guard basePort > 0 && basePort < 65536 else {
      throw r.error(
        r.entry("base_port") == nil ? "offset" : "base_port", "must be a TCP port 1…65535, got \(basePort)", .outOfRange
      )
    }
    security = r.nonEmpty("security")?.lowercased() ?? "none"
    guard ["none", "curve"].contains(security) else {
      throw r.error("security", "expected none or curve, got '\(security)'")
    }
    curveKeys = r.nonEmpty("curve_keys")
    if security == "curve" && curveKeys == nil {
      throw r.error("curve_keys", "security = curve needs curve_keys, the folder peerctl keys writes")
    }
    r.accept(["compress", "compression_package", "compression_class"])
  }
}

/// `[SHARING]`: what of the model goes on the wire (docs/configuration.md has every key).
///
/// decentralizepy's keys keep their meaning; `bits`, `block_size`, `step_size` and
/// `partial_averaging` are peerd's. Whether a key applies to the chosen class is the sharing
/// layer's business; its value is checked here, so a wrong one names the file, line and key.
public struct SharingSection: Sendable {
  public var sharingClass: ClassReference
  public var alpha: Double
  /// Empty when the key is absent (RandomAlpha then uses decentralizepy's default list).
  public var alphaList: [Double]
  public var accumulation: Bool
  public var accumulateAveragingChanges: Bool
  public var metadataCap: Double
  public var compress: Bool
  /// nil: the class's default (8 for Quantize, 32 for Choco).
  public var bits: Int?
  public var blockSize: Int
  /// nil: the default for `bits`.
  public var stepSize: Double?
  /// `renormalize`, `fill_local` or `neighbour_mean`; nil: the sharing class's default.
  public var partialAveraging: String?
  /// Differential privacy and robust aggregation (Sections+Defences.swift).
  public var defences: SharingDefences

  public static let allowedBits = [1, 4, 8, 32]
  public static let partialAveragingRules = ["renormalize", "fill_local", "neighbour_mean"]

  init(_ r: inout SectionReader) throws {
    sharingClass =
      ClassReference(package: r.nonEmpty("sharing_package"), className: r.nonEmpty("sharing_class"))
      ?? ClassReference(package: nil, className: "Sharing")!
    alpha = try r.double("alpha", default: 1)
    guard alpha > 0 && alpha <= 1 else { throw r.error("alpha", "must be a fraction in (0, 1], got \(alpha)") }
    alphaList = try r.doubles("alpha_list") ?? []
    if r.nonEmpty("alpha_list") != nil && alphaList.isEmpty {
      throw r.error("alpha_list", "must list at least one fraction, like [0.1, 0.2, 1.0]")
    }
    if let bad = alphaList.first(where: { !($0 > 0 && $0 <= 1) }) {
      throw r.error("alpha_list", "every fraction must be in (0, 1], got \(bad)")
    }
    guard alphaList.count <= ConfigLimits.alphaList else {
      throw r.error(
        "alpha_list", "at most \(ConfigLimits.alphaList) fractions, got \(alphaList.count)", .outOfRange)
    }
    accumulation = try r.bool("accumulation", default: false)
    accumulateAveragingChanges = try r.bool("accumulate_averaging_changes", default: false)
    metadataCap = try r.double("metadata_cap", default: 1)
    guard metadataCap > 0 else { throw r.error("metadata_cap", "must be positive, got \(metadataCap)") }
    compress = try r.bool("compress", default: false)
    bits = try r.int("bits")
    if let bits, !Self.allowedBits.contains(bits) {
      throw r.error("bits", "must be 8, 4 or 1 (or 32 for unquantized CHOCO deltas), got \(bits)")
    }
    blockSize = try r.int("block_size", default: 256, min: 1)
    guard blockSize <= 1 << 24 else { throw r.error("block_size", "must be at most 16777216, got \(blockSize)") }
    stepSize = try r.double("step_size")
    if let stepSize, !(stepSize > 0 && stepSize <= 1) {
      throw r.error("step_size", "must be in (0, 1], got \(stepSize)")
    }
    partialAveraging = r.nonEmpty("partial_averaging")?.lowercased()
    if let rule = partialAveraging, !Self.partialAveragingRules.contains(rule) {
      throw r.error("partial_averaging", "expected renormalize, fill_local or neighbour_mean, got '\(rule)'")
    }
    defences = try SharingDefences(&r)
    if try r.bool("layerwise", default: false) {
      throw r.error("layerwise", "per-layer SubSampling masks are not supported; one mask covers the whole model")
    }
    r.accept([
      "dict_ordered", "save_shared", "save_accumulated", "compression_package", "compression_class",
      "float_precision", "pickle",
    ])
  }
}

/// `[NODE]` (peerd's own): the algorithm and the node loop's knobs.
public struct NodeSection: Sendable {
  public var algorithm: String
  public var iterations: Int
  public var testAfter: Int
  public var trainEvaluateAfter: Int
  public var peerTimeout: Double
  public var startTimeout: Double
  public var resetOptimizer: Bool
  public var logLevel: String
  public var evalBatchSize: Int
  public var saveWeights: Bool
  public var checkpointEvery: Int
  public var isolationLimit: Double
  public var stepPause: Double
  /// The algorithms' knobs (AlgorithmKeys.swift).
  public var algorithmKeys: AlgorithmKeys
  /// Evaluate before the first round, recorded as round 0 (the start of every curve).
  public var evaluateAtStart: Bool
  /// The test-only attacker (Sections+Defences.swift).
  public var attack: AttackKeys

  init(_ r: inout SectionReader) throws {
    algorithm = r.nonEmpty("algorithm") ?? "dpsgd"
    iterations = try r.int("iterations", default: 80, min: 1, max: ConfigLimits.iterations)
    testAfter = try r.int("test_after", default: 10, min: 0, max: ConfigLimits.iterations)
    trainEvaluateAfter = try r.int("train_evaluate_after", default: 10, min: 0, max: ConfigLimits.iterations)
    let lowest = ConfigLimits.minimumTimeout
    peerTimeout = try r.double("peer_timeout", default: 30)
    guard peerTimeout >= lowest && peerTimeout <= ConfigLimits.peerTimeout else {
      throw r.error(
        "peer_timeout",
        "must be seconds in [\(lowest), \(Int(ConfigLimits.peerTimeout))], got \(r.written("peer_timeout"))",
        .outOfRange)
    }
    startTimeout = try r.double("start_timeout", default: 120)
    guard startTimeout >= lowest && startTimeout <= ConfigLimits.startTimeout else {
      throw r.error(
        "start_timeout",
        "must be seconds in [\(lowest), \(Int(ConfigLimits.startTimeout))], got \(r.written("start_timeout"))",
        .outOfRange)
    }
    resetOptimizer = try r.bool("reset_optimizer", default: false)
    logLevel = r.nonEmpty("log_level") ?? "info"
    guard LogLevel(name: logLevel) != nil else {
      throw r.error(
        "log_level", "expected one of \(LogLevel.names), got \(INIDocument.excerpt(logLevel))", .unsupported)
    }
    evalBatchSize = try r.int("eval_batch_size", default: 1024, min: 1, max: ConfigLimits.batchSize)
    saveWeights = try r.bool("save_weights", default: true)
    checkpointEvery = try r.int("checkpoint_every", default: 0, min: 0)
    isolationLimit = try r.double("isolation_limit", default: 0.5)
    guard (0...1).contains(isolationLimit) else {
      throw r.error("isolation_limit", "must be a fraction of rounds in [0, 1], got \(isolationLimit)")
    }
    stepPause = try r.double("step_pause", default: 0)
    guard (0...60).contains(stepPause) else {
      throw r.error("step_pause", "must be seconds in [0, 60], got \(stepPause)")
    }
    algorithmKeys = try AlgorithmKeys(&r)
    evaluateAtStart = try r.bool("evaluate_at_start", default: false)
    attack = try AttackKeys(&r)
  }
}
