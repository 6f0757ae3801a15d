import Numerics

/// A named slice of the flat parameter vector: one weight or bias tensor.
public struct ParameterTensor: Sendable, Equatable {
  public var name: String
  public var offset: Int
  public var shape: [Int]
  public var count: Int

  public init(name: String, offset: Int, shape: [Int]) {
    self.name = name
    self.offset = offset
    self.shape = shape
    count = shape.reduce(1, *)
  }
}

/// The loss a model trains with (`[TRAIN_PARAMS] loss_class`).
public enum LossKind: String, Sendable, CaseIterable {
  case crossEntropy = "CrossEntropyLoss"
  case meanSquaredError = "MSELoss"

  /// The loss names, registered once: `loss_class` resolves through this.
  public static let registry = Registry<LossKind>(
    kind: "[TRAIN_PARAMS] loss_class", allCases.map { Registry.Entry($0.rawValue, make: $0) })
}

/// Which entries of the gradient vector the last step wrote, for models whose gradient is
/// sparse (embeddings). Ranges are disjoint and ascending.
public struct SparseGradient: Sendable, Equatable {
  public var ranges: [Range<Int>]
  public init(ranges: [Range<Int>]) { self.ranges = ranges }
  public var count: Int { ranges.reduce(0) { $0 + $1.count } }
}

/// Running sums of an evaluation pass.
public struct EvaluationTally: Sendable, Equatable {
  public var lossSum = 0.0
  public var correct = 0
  public var squaredError = 0.0
  public var count = 0

  public init() {}

  public var meanLoss: Double { count == 0 ? 0 : lossSum / Double(count) }
  /// Fraction in 0…1.
  public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }
  public var rmse: Double { count == 0 ? 0 : (squaredError / Double(count)).squareRoot() }

  public mutating func merge(_ other: EvaluationTally) {
    lossSum += other.lossSum
    correct += other.correct
    squaredError += other.squaredError
    count += other.count
  }
}

/// A trainable model over ONE flat parameter vector and ONE gradient vector (DESIGN decision 1).
///
/// A model is owned by one node loop; it keeps its activation workspaces between steps, so a
/// step allocates nothing once the largest batch has been seen.
public protocol Model: AnyObject {
  var name: String { get }
  var parameterCount: Int { get }
  var parameters: FloatBuffer { get }
  var gradients: FloatBuffer { get }
  /// The tensors, in vector order.
  var layout: [ParameterTensor] { get }
  var lossKind: LossKind { get }

  /// Forward and backward on `batch`: writes the gradient of the mean loss (all of it for dense
  /// models; the `sparseGradient` ranges for sparse ones) and returns the mean loss.
  func computeGradients(_ batch: Batch) -> Float

  /// After `computeGradients`, the written ranges when the gradient is sparse; nil when dense.
  var sparseGradient: SparseGradient? { get }

  /// Forward only; adds loss sum, correct predictions, squared error and count to `tally`.
  func evaluate(_ batch: Batch, into tally: inout EvaluationTally)
}

/// Unknown model names, impossible shapes, bad weight files.
public struct ModelError: Error, CustomStringConvertible, Sendable {
  public enum Kind: Sendable, Equatable {
    /// Settings that do not describe a model (a shape, loss or width that does not fit).
    case invalid
    /// More parameters than `ModelLimits.maximumParameterCount`.
    case tooLarge
  }

  public var kind: Kind
  public var description: String
  public init(_ description: String, kind: Kind = .invalid) {
    self.kind = kind
    self.description = description
  }
}

/// The largest model peerd builds.
public enum ModelLimits {
  /// 2^28 parameters: 1 GiB of float32 for the parameters, as much again for the gradients and
  /// up to twice that for Adam's moments; and the wire header counts parameters in 32 bits.
  /// The count is checked before the parameter vector is allocated.
  public static let maximumParameterCount = 1 << 28

  static func check(_ count: Int, _ name: String) throws {
    guard count <= maximumParameterCount else {
      throw ModelError(
        "\(name) would have \(count) parameters; the most peerd builds is \(maximumParameterCount)", kind: .tooLarge)
    }
  }
}
