import Foundation
import Numerics

/// Where validation samples come from (decentralizepy's `validation_source`).
public struct ValidationSplit: Sendable, Equatable {
  public enum Source: String, Sendable {
    case train = "Train"
    case test = "Test"
  }
  public var source: Source
  public var fraction: Double
  public init(source: Source, fraction: Double) {
    self.source = source
    self.fraction = fraction
  }
}

/// Everything needed to load a node's shard; the Learning layer fills it from `[DATASET]`.
public struct DatasetSettings: Sendable {
  public var name: String
  public var trainDir: String?
  public var testDir: String?
  public var imagesDir: String?
  /// The dataset seed (`random_seed`): the partition depends on it alone.
  public var seed: UInt64
  public var partition: PartitionScheme
  public var validation: ValidationSplit?
  public var synthetic: SyntheticSettings
  /// Where decoded caches go; nil means `$PEERD_CACHE`, else `$TMPDIR/peerd-cache`.
  public var cacheDirectory: String?

  public init(
    name: String, trainDir: String? = nil, testDir: String? = nil, imagesDir: String? = nil, seed: UInt64 = 90,
    partition: PartitionScheme = .iid, validation: ValidationSplit? = nil, synthetic: SyntheticSettings = .init(),
    cacheDirectory: String? = nil
  ) {
    self.name = name
    self.trainDir = trainDir
    self.testDir = testDir
    self.imagesDir = imagesDir
    self.seed = seed
    self.partition = partition
    self.validation = validation
    self.synthetic = synthetic
    self.cacheDirectory = cacheDirectory
  }

  var resolvedCacheDirectory: String {
    if let cacheDirectory { return cacheDirectory }
    let env = ProcessInfo.processInfo.environment
    if let c = env["PEERD_CACHE"], !c.isEmpty { return c }
    return ((env["TMPDIR"] ?? "/tmp") as NSString).appendingPathComponent("peerd-cache")
  }
}

/// Per-node sample counts and label histogram, for `peerctl partition`.
public struct ShardSummary: Sendable {
  public var node: Int
  public var trainCount: Int
  public var testCount: Int
  /// class → samples (empty for regression data).
  public var labelHistogram: [Int]
}

/// Maps `dataset_class` names to readers. Adding a dataset is one loader and one entry here; the
/// supported list in errors is derived from the entries, and case, `-` and `_` do not matter
/// (`FEMNIST`, `CelebA` and `Fashion-MNIST` resolve).
public enum DatasetRegistry {
  /// Loads node `node` of `nodes` from settings whose `name` is the entry's canonical name.
  public typealias Loader = @Sendable (DatasetSettings, _ node: Int, _ nodes: Int) throws -> NodeShard

  public static let registry = Registry<Loader>(
    kind: "[DATASET] dataset_class",
    [
      .init("MNIST") { try loadIDX($0, node: $1, nodes: $2, defaultDir: "mnist") },
      .init("FashionMNIST") { try loadIDX($0, node: $1, nodes: $2, defaultDir: "fashion-mnist") },
      .init("CIFAR10") { try loadCIFAR10($0, node: $1, nodes: $2) },
      .init("Femnist") { try loadLEAF($0, node: $1, nodes: $2, femnist: true) },
      .init("Celeba") { try loadLEAF($0, node: $1, nodes: $2, femnist: false) },
      .init("MovieLens") { try loadMovieLens($0, node: $1, nodes: $2) },
      .init("Synthetic") { try loadSynthetic($0, node: $1, nodes: $2) },
    ])

  public static var names: [String] { registry.names }

  public static func load(_ s: DatasetSettings, node: Int, nodes: Int) throws -> NodeShard {
    guard node >= 0 && node < nodes else {
      throw DatasetError("node \(node) is outside 0..<\(nodes)", kind: .badSettings)
    }
    let entry = try registry.resolve(s.name)
    var settings = s
    settings.name = entry.name
    return try entry.make(settings, node, nodes)
  }

  static func loadIDX(_ s: DatasetSettings, node: Int, nodes: Int, defaultDir: String) throws -> NodeShard {
    let streams = RandomStreams(seed: s.seed)
    let trainDir = try directory(s.trainDir ?? defaultDir, what: "\(s.name) train_dir")
    let testDir = try directory(s.testDir ?? s.trainDir ?? defaultDir, what: "\(s.name) test_dir")
    let (train, test) = try MNISTReader.load(
      trainDir: trainDir, testDir: testDir, cacheDirectory: s.resolvedCacheDirectory)
    let labels = train.labels
    let parts = try Partitioner.partition(
      labels: labels, classes: 10, nodes: nodes, scheme: s.partition, rng: streams.stream(.dataSplit))
    let meta = DatasetMetadata(name: s.name, inputShape: [1, 28, 28], classCount: 10, totalTrainSamples: labels.count)
    return try withValidation(train.shard(parts[node]), test: test, s, meta)
  }

  static func loadSynthetic(_ s: DatasetSettings, node: Int, nodes: Int) throws -> NodeShard {
    let streams = RandomStreams(seed: s.seed)
    let syn = s.synthetic
    let meta = DatasetMetadata(
      name: "Synthetic", inputShape: [syn.dimension], classCount: syn.classes,
      totalTrainSamples: syn.samplesPerNode * nodes)
    switch syn.kind {
    case .gaussian:
      let (pool, test) = SyntheticGenerator.gaussian(syn, nodes: nodes, streams: streams)
      let parts = try Partitioner.partition(
        labels: pool.labels, classes: syn.classes, nodes: nodes, scheme: s.partition, rng: streams.stream(.dataSplit))
      return try withValidation(SubsetSource(base: pool, indices: parts[node]), test: test, s, meta)
    case .leaf:
      let (train, test) = SyntheticGenerator.leaf(syn, node: node, nodes: nodes, streams: streams)
      return try withValidation(train, test: test, s, meta)
    }
  }

  static func loadCIFAR10(_ s: DatasetSettings, node: Int, nodes: Int) throws -> NodeShard {
    let streams = RandomStreams(seed: s.seed)
    let trainDir = try directory(s.trainDir ?? "cifar-10-batches-bin", what: "CIFAR10 train_dir")
    let testDir = try directory(s.testDir ?? s.trainDir ?? "cifar-10-batches-bin", what: "CIFAR10 test_dir")
    let files = try CIFAR10Reader.trainFiles(trainDir)
    let perFile = try CIFAR10Reader.trainLabels(files)
    let labels = perFile.flatMap { $0 }
    let parts = try Partitioner.partition(
      labels: labels, classes: 10, nodes: nodes, scheme: s.partition, rng: streams.stream(.dataSplit))
    let train = try CIFAR10Reader.shard(files: files, perFile: perFile, indices: parts[node])
    let meta = DatasetMetadata(
      name: "CIFAR10", inputShape: [3, 32, 32], classCount: 10, totalTrainSamples: labels.count)
    return try withValidation(train, test: try CIFAR10Reader.test(testDir), s, meta)
  }

  static func loadLEAF(_ s: DatasetSettings, node: Int, nodes: Int, femnist: Bool) throws -> NodeShard {
    let streams = RandomStreams(seed: s.seed)
    let trainDir = try directory(
      s.trainDir ?? (femnist ? "femnist/train" : "celeba/train"), what: "\(s.name) train_dir")
    let testDir = try directory(s.testDir ?? (femnist ? "femnist/test" : "celeba/test"), what: "\(s.name) test_dir")
    let kind: LEAFReader.Kind
    if femnist {
      kind = .femnist
    } else {
      kind = .celeba(imagesDir: try directory(s.imagesDir ?? "celeba/img_align_celeba", what: "Celeba images_dir"))
    }
    guard s.partition == .iid || s.partition == .byUser else {
      throw DatasetError("\(s.name) is split by LEAF user; partition_niid and sizes do not apply", kind: .badSettings)
    }
    let loaded = try LEAFReader.load(
      trainDir: trainDir, testDir: testDir, kind: kind, classes: femnist ? 62 : 2, node: node, nodes: nodes,
      streams: streams)
    var meta = DatasetMetadata(
      name: s.name, inputShape: femnist ? [1, 28, 28] : [3, 84, 84], classCount: femnist ? 62 : 2,
      totalTrainSamples: loaded.total)
    meta.users = loaded.users
    return try withValidation(loaded.train, test: loaded.test, s, meta)
  }

  static func loadMovieLens(_ s: DatasetSettings, node: Int, nodes: Int) throws -> NodeShard {
    let streams = RandomStreams(seed: s.seed)
    let dir = try directory(s.trainDir ?? "movielens/ml-latest-small", what: "MovieLens train_dir")
    let ratings = try MovieLensReader.read(
      (dir as NSString).appendingPathComponent("ratings.csv"), cacheDirectory: s.resolvedCacheDirectory)
    let (train, test) = try MovieLensReader.shard(ratings, node: node, nodes: nodes, streams: streams)
    var meta = DatasetMetadata(
      name: "MovieLens", inputShape: [], classCount: 0, totalTrainSamples: ratings.ratings.count)
    meta.users = ratings.userCount
    meta.items = ratings.itemCount
    return NodeShard(train: train, test: test, validation: nil, metadata: meta)
  }

  /// Sample counts and label histograms of every node's shard.
  public static func summary(_ s: DatasetSettings, nodes: Int) throws -> [ShardSummary] {
    try (0..<nodes).map { node in
      let shard = try load(s, node: node, nodes: nodes)
      var histogram = [Int](repeating: 0, count: shard.metadata.classCount)
      if shard.metadata.classCount > 0 {
        for i in 0..<shard.train.count {
          let l = Int(shard.train.label(at: i))
          if l >= 0 && l < histogram.count { histogram[l] += 1 }
        }
      }
      return ShardSummary(
        node: node, trainCount: shard.train.count, testCount: shard.test.count, labelHistogram: histogram)
    }
  }

  static func directory(_ path: String, what: String) throws -> String {
    guard let found = DataLocator.resolve(path) else {
      throw DatasetError.missing("\(what) '\(path)'", path: path)
    }
    return found
  }

  static func withValidation(
    _ train: any SampleSource, test: any SampleSource, _ s: DatasetSettings, _ meta: DatasetMetadata
  ) throws -> NodeShard {
    guard let v = s.validation, v.fraction > 0 else {
      return NodeShard(train: train, test: test, validation: nil, metadata: meta)
    }
    guard v.fraction < 1 else {
      throw DatasetError("validation_size must be below 1, got \(v.fraction)", kind: .badSettings)
    }
    switch v.source {
    case .train:
      let cut = Int(Double(train.count) * (1 - v.fraction))
      guard cut > 0 else {
        throw DatasetError(
          "validation_size \(v.fraction) leaves this node none of its \(train.count) training samples",
          kind: .emptyShard)
      }
      return NodeShard(
        train: SubsetSource(base: train, indices: Array(0..<cut)), test: test,
        validation: SubsetSource(base: train, indices: Array(cut..<train.count)), metadata: meta)
    case .test:
      let cut = Int(Double(test.count) * v.fraction)
      return NodeShard(
        train: train, test: SubsetSource(base: test, indices: Array(cut..<test.count)),
        validation: SubsetSource(base: test, indices: Array(0..<cut)), metadata: meta)
    }
  }
}
