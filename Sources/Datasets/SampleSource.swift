import Numerics

/// Random access to a set of samples, read-only. The global test set is one shared instance.
public protocol SampleSource: AnyObject {
  var count: Int { get }
  /// Per-sample input shape; empty for index-input data (MovieLens).
  var inputShape: [Int] { get }
  /// Number of classes; 0 for regression.
  var classCount: Int { get }
  /// Class label of sample `index` (0 for regression data).
  func label(at index: Int) -> Int32
  /// Overwrites `batch` with the samples at `indices`, keeping its arrays' capacity.
  func fill(_ batch: inout Batch, indices: ArraySlice<Int>)
}

/// What the model needs to know about the data.
public struct DatasetMetadata: Sendable {
  public var name: String
  public var inputShape: [Int]
  public var classCount: Int
  /// MovieLens: users and items in the dense index space shared by all nodes.
  public var users: Int = 0
  public var items: Int = 0
  /// Training samples over all nodes (LEAF datasets: this node's, as only its users are read).
  public var totalTrainSamples: Int
}

/// One node's data.
public struct NodeShard {
  public var train: any SampleSource
  /// The global test set, or the node's local test ratings for MovieLens.
  public var test: any SampleSource
  public var validation: (any SampleSource)?
  public var metadata: DatasetMetadata
}

/// A view of some samples of a base source, by index.
public final class SubsetSource: SampleSource {
  public let base: any SampleSource
  public let indices: [Int]
  private var mapped: [Int] = []

  public init(base: any SampleSource, indices: [Int]) {
    self.base = base
    self.indices = indices
  }

  public var count: Int { indices.count }
  public var inputShape: [Int] { base.inputShape }
  public var classCount: Int { base.classCount }
  public func label(at index: Int) -> Int32 { base.label(at: indices[index]) }

  public func fill(_ batch: inout Batch, indices local: ArraySlice<Int>) {
    mapped.removeAll(keepingCapacity: true)
    for i in local { mapped.append(indices[i]) }
    base.fill(&batch, indices: mapped[...])
  }
}

/// Dense float samples with integer labels, held in memory (Synthetic data).
public final class DenseSource: SampleSource {
  public let features: [Float]
  public let labels: [Int32]
  public let inputShape: [Int]
  public let classCount: Int
  let width: Int

  public init(features: [Float], labels: [Int32], inputShape: [Int], classCount: Int) {
    self.features = features
    self.labels = labels
    self.inputShape = inputShape
    self.classCount = classCount
    width = inputShape.reduce(1, *)
  }

  public var count: Int { labels.count }
  public func label(at index: Int) -> Int32 { labels[index] }

  public func fill(_ batch: inout Batch, indices: ArraySlice<Int>) {
    batch.removeAll()
    batch.inputShape = inputShape
    batch.count = indices.count
    features.withUnsafeBufferPointer { f in
      for i in indices {
        batch.inputs.append(contentsOf: UnsafeBufferPointer(rebasing: f[(i * width)..<((i + 1) * width)]))
        batch.labels.append(labels[i])
      }
    }
  }
}
