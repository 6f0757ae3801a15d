/// One mini-batch, in the form datasets produce and models consume.
///
/// It lives in `Numerics` because `Datasets` and `Models` never import each other. A batch is
/// filled in place: a trainer keeps one `Batch` and the dataset overwrites it each step, so its
/// arrays keep their capacity and no step allocates.
public struct Batch: Sendable {
  /// Number of samples in this batch (the last batch of an epoch may be short).
  public var count: Int = 0
  /// Per-sample input shape, e.g. `[1, 28, 28]`, `[784]` or `[3, 84, 84]`.
  public var inputShape: [Int] = []
  /// Dense inputs, `count × inputShape.product`, row-major. Empty for index-input models.
  public var inputs: [Float] = []
  /// Integer inputs for embedding models, `count × indicesPerSample` (MovieLens: user, item).
  public var indices: [Int32] = []
  /// Class labels for classification, `count` entries.
  public var labels: [Int32] = []
  /// Regression targets (MovieLens ratings), `count` entries.
  public var targets: [Float] = []

  public init() {}

  /// Floats per sample.
  public var featuresPerSample: Int { inputShape.reduce(1, *) }

  /// Resets counts while keeping the arrays' capacity.
  public mutating func removeAll() {
    count = 0
    inputs.removeAll(keepingCapacity: true)
    indices.removeAll(keepingCapacity: true)
    labels.removeAll(keepingCapacity: true)
    targets.removeAll(keepingCapacity: true)
  }
}
