import Numerics

/// Mini-batches over a source, reshuffled every epoch with a seeded stream.
///
/// Every sample is used once per epoch. An epoch's remainder shorter than half a batch is folded
/// into the epoch's last batch instead of becoming a batch of its own: one step on one or two
/// samples at the full learning rate throws a model far off (a 96-node MNIST run whose 625-sample
/// shards ended each epoch with a 1-sample step lost up to 60 accuracy points in that round).
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

  /// Where the iterator is: the epoch's order, the position in it, and the shuffle generator.
  public struct State: Sendable, Equatable {
    public var order: [Int]
    public var position: Int
    public var rng: [UInt64]
    public init(order: [Int], position: Int, rng: [UInt64]) {
      self.order = order
      self.position = position
      self.rng = rng
    }
  }

  public var state: State { State(order: order, position: position, rng: rng.state) }

  /// Continues from a saved state; throws unless it is a permutation of this source's samples.
  public mutating func restore(_ s: State) throws {
    guard s.order.count == source.count, s.position >= 0, s.position <= s.order.count,
      let generator = Xoshiro256(state: s.rng)
    else { throw DatasetError("the saved batch position does not fit this shard of \(source.count) samples") }
    var seen = [Bool](repeating: false, count: source.count)
    for i in s.order {
      guard i >= 0, i < source.count, !seen[i] else {
        throw DatasetError("the saved sample order is not a permutation of this shard's \(source.count) samples")
      }
      seen[i] = true
    }
    order = s.order
    position = s.position
    rng = generator
  }

  /// Batches per epoch; the last one may be shorter or longer than `batchSize`, by less than half.
  public var batchesPerEpoch: Int {
    let full = source.count / batchSize
    let rest = source.count % batchSize
    return rest == 0 || (full > 0 && Self.folds(rest, batchSize)) ? full : full + 1
  }

  static func folds(_ rest: Int, _ batchSize: Int) -> Bool { rest * 2 < batchSize }

  /// Fills the next batch; returns false (filling nothing) at the end of an epoch. The next call
  /// starts a new, reshuffled epoch.
  public mutating func next(into batch: inout Batch) -> Bool {
    guard position < order.count else {
      position = 0
      if shuffle { rng.shuffle(&order) }
      return false
    }
    var end = min(position + batchSize, order.count)
    let rest = order.count - end
    if rest > 0 && Self.folds(rest, batchSize) { end = order.count }
    source.fill(&batch, indices: order[position..<end])
    position = end
    return true
  }
}
