import Numerics

/// What a model needs to know to be built; the Learning layer fills it from the config and the
/// dataset's metadata.
public struct ModelSettings: Sendable {
  public var name: String
  /// Per-sample input shape, e.g. [1, 28, 28] or [784].
  public var inputShape: [Int]
  public var classes: Int
  public var hiddenSizes: [Int]
  public var users: Int
  public var items: Int
  public var embeddingDimension: Int
  /// nil means the model's own default loss.
  public var loss: LossKind?
  /// How convolutions compute; `.automatic` everywhere but in benchmarks and tests that compare.
  public var convolution: ConvolutionAlgorithm

  public init(
    name: String, inputShape: [Int] = [], classes: Int = 0, hiddenSizes: [Int] = [200, 200], users: Int = 0,
    items: Int = 0, embeddingDimension: Int = 20, loss: LossKind? = nil, convolution: ConvolutionAlgorithm = .automatic
  ) {
    self.name = name
    self.inputShape = inputShape
    self.classes = classes
    self.hiddenSizes = hiddenSizes
    self.users = users
    self.items = items
    self.embeddingDimension = embeddingDimension
    self.loss = loss
    self.convolution = convolution
  }
}

/// Maps `model_class` names to models. Adding a model is one function and one entry here; names
/// are registered once (see `Registry`).
public enum ModelRegistry {
  public typealias Maker = @Sendable (ModelSettings, inout Xoshiro256) throws -> any Model

  public static let registry = Registry<Maker>(
    kind: "[DATASET] model_class",
    [
      .init("LogisticRegression") { s, rng in
        guard flat(s) > 0 else { throw ModelError("LogisticRegression needs an input shape") }
        return try classifier(s, [Linear(flat(s), try classes(s))], input: [flat(s)], rng: &rng)
      },
      .init("MLP") { s, rng in
        guard flat(s) > 0 else { throw ModelError("MLP needs an input shape") }
        guard !s.hiddenSizes.isEmpty, s.hiddenSizes.allSatisfy({ $0 > 0 }) else {
          throw ModelError("MLP needs one or more hidden widths, each at least 1, got \(s.hiddenSizes)")
        }
        var layers: [any Layer] = []
        var width = flat(s)
        for h in s.hiddenSizes {
          layers.append(Linear(width, h))
          layers.append(ReLU())
          width = h
        }
        layers.append(Linear(width, try classes(s)))
        return try classifier(s, layers, input: [flat(s)], rng: &rng)
      },
      // decentralizepy names both FEMNIST's and CelebA's network `CNN`; the input decides.
      .init("CNN") { s, rng in
        if flat(s) == 3 * 84 * 84 {
          return try classifier(
            s, celebaCNN(classes: s.classes > 0 ? s.classes : 2, s.convolution), input: [3, 84, 84], rng: &rng)
        }
        if flat(s) == 28 * 28 {
          return try classifier(
            s, femnistCNN(classes: s.classes > 0 ? s.classes : 62, s.convolution), input: [1, 28, 28], rng: &rng)
        }
        throw ModelError("CNN is defined for FEMNIST (1×28×28) and CelebA (3×84×84) inputs, got \(s.inputShape)")
      },
      .init("FemnistCNN") { s, rng in
        try classifier(
          s, femnistCNN(classes: s.classes > 0 ? s.classes : 62, s.convolution), input: [1, 28, 28], rng: &rng)
      },
      .init("CelebaCNN") { s, rng in
        try classifier(
          s, celebaCNN(classes: s.classes > 0 ? s.classes : 2, s.convolution), input: [3, 84, 84], rng: &rng)
      },
      .init("LeNet") { s, rng in
        guard flat(s) == 3 * 32 * 32 else {
          throw ModelError("LeNet expects CIFAR-10 inputs 3×32×32, got \(s.inputShape)")
        }
        return try classifier(
          s, leNet(classes: s.classes > 0 ? s.classes : 10, s.convolution), input: [3, 32, 32], rng: &rng)
      },
      .init("MatrixFactorization") { s, rng in
        if let loss = s.loss, loss != .meanSquaredError {
          throw ModelError("MatrixFactorization trains with MSELoss, got \(loss.rawValue)")
        }
        return try MatrixFactorization(users: s.users, items: s.items, dimension: s.embeddingDimension, rng: &rng)
      },
    ])

  public static var names: [String] { registry.names }

  public static func make(_ s: ModelSettings, rng: inout Xoshiro256) throws -> any Model {
    var settings = s
    let entry = try registry.resolve(s.name)
    settings.name = entry.name
    return try entry.make(settings, &rng)
  }

  static func flat(_ s: ModelSettings) -> Int { s.inputShape.reduce(1, *) }

  static func classes(_ s: ModelSettings) throws -> Int {
    guard s.classes > 0 else { throw ModelError("\(s.name) needs the number of classes (from the dataset)") }
    return s.classes
  }

  static func classifier(_ s: ModelSettings, _ layers: [any Layer], input: [Int], rng: inout Xoshiro256) throws
    -> any Model
  {
    if let loss = s.loss, loss != .crossEntropy {
      throw ModelError("\(s.name) is a classifier; loss_class must be CrossEntropyLoss, got \(loss.rawValue)")
    }
    return try Sequential(name: s.name, inputShape: input, layers: layers, loss: .crossEntropy, rng: &rng)
  }

  /// decentralizepy's FEMNIST CNN: 1,690,046 parameters with 62 classes.
  static func femnistCNN(classes: Int, _ algorithm: ConvolutionAlgorithm = .automatic) -> [any Layer] {
    // decentralizepy's conv → ReLU → pool, with ReLU fused into the pool (MaxPool2d).
    [
      Conv2d(1, 32, kernel: 5, padding: 2, algorithm: algorithm), MaxPool2d(2, relu: true),
      Conv2d(32, 64, kernel: 5, padding: 2, algorithm: algorithm), MaxPool2d(2, relu: true),
      Linear(7 * 7 * 64, 512), ReLU(), Linear(512, classes),
    ]
  }

  /// decentralizepy's CelebA CNN: four 3×3 "same" convolutions of 32 channels, each followed by
  /// max-pool 2 and ReLU (84 → 42 → 21 → 10 → 5), then a linear layer 800 → classes.
  static func celebaCNN(classes: Int, _ algorithm: ConvolutionAlgorithm = .automatic) -> [any Layer] {
    [
      Conv2d(3, 32, kernel: 3, padding: 1, algorithm: algorithm), MaxPool2d(2, relu: true),
      Conv2d(32, 32, kernel: 3, padding: 1, algorithm: algorithm), MaxPool2d(2, relu: true),
      Conv2d(32, 32, kernel: 3, padding: 1, algorithm: algorithm), MaxPool2d(2, relu: true),
      Conv2d(32, 32, kernel: 3, padding: 1, algorithm: algorithm), MaxPool2d(2, relu: true),
      Linear(5 * 5 * 32, classes),
    ]
  }

  /// decentralizepy's CIFAR-10 LeNet without its GroupNorm layers (not implemented here): three
  /// 5×5 "same" convolutions (32, 32, 64 channels), each with ReLU and max-pool 2, then 1024 → classes.
  static func leNet(classes: Int, _ algorithm: ConvolutionAlgorithm = .automatic) -> [any Layer] {
    [
      Conv2d(3, 32, kernel: 5, padding: 2, algorithm: algorithm), MaxPool2d(2, relu: true),
      Conv2d(32, 32, kernel: 5, padding: 2, algorithm: algorithm), MaxPool2d(2, relu: true),
      Conv2d(32, 64, kernel: 5, padding: 2, algorithm: algorithm), MaxPool2d(2, relu: true),
      Linear(4 * 4 * 64, classes),
    ]
  }
}
