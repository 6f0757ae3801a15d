import Numerics

/// Mini-batches over a source, reshuffled every epoch with a seeded stream.
public struct BatchIterator {
  public let source: any SampleSource
  public let batchSize: Int
  public let shuffle: Bool
  private var rng: Xoshiro256
  private var order: [Int]
  private var position = 0

  public init(source: any SampleSource, batchSize: Int, shuffle: Bool, rng: Xoshiro256) {
    self.source = source
    self.batchSize = max(1, batchSize)
    self.shuffle = shuffle
    self.rng = rng
    order = Array(0..<source.count)
    if shuffle { self.rng.shuffle(&order) }
  }

  /// Batches per epoch; the last one may be short.
  public var batchesPerEpoch: Int { (source.count + batchSize - 1) / batchSize }

  /// Fills the next batch; returns false (filling nothing) at the end of an epoch. The next call
  /// starts a new, reshuffled epoch.
  public mutating func next(into batch: inout Batch) -> Bool {
    guard position < order.count else {
      position = 0
      if shuffle { rng.shuffle(&order) }
      return false
    }
    let end = min(position + batchSize, order.count)
    source.fill(&batch, indices: order[position..<end])
    position = end
    return true
  }
}
