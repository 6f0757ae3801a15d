import Numerics

/// How a share's values are laid out on the wire.
///
/// The raw values are the `payload encoding` byte of the wire header (docs/protocol.md), so the
/// Transport layer and this one agree without importing each other.
public enum ShareEncoding: UInt8, Sendable, CaseIterable {
  /// Every parameter, in vector order, as little-endian float32.
  case dense = 1
  /// `count` pairs of (u32 index, f32 value), indices strictly increasing.
  case indexed = 2
  /// A u64 seed followed by float32 values; the receiver regenerates the indices from the seed.
  case seeded = 3
}

/// What one node sends of its model in one message: all of it, or a subset with its indices.
///
/// A share is a value: the sender builds it from the parameter vector, the receiver decodes it
/// from a payload and hands it to an `Aggregator`. Data bytes are the values; metadata bytes are
/// the indices or seed, which is how decentralizepy splits `total_data_per_n` and `total_meta`.
public struct Share: Sendable, Equatable {
  public var encoding: ShareEncoding
  /// Length of the full parameter vector the share was cut from.
  public var parameterCount: Int
  /// Indices into the parameter vector for `.indexed` and `.seeded` shares; empty for `.dense`.
  public var indices: [Int]
  /// The seed for `.seeded` shares (0 otherwise).
  public var seed: UInt64
  /// Whether every value is known to be finite. Shares decoded into arrays are checked by the
  /// codec; a dense share borrowed from its frame is checked by the `Aggregator` while it
  /// averages it, so that the received bytes are read once, not twice.
  public internal(set) var valuesChecked = true
  private var storage: Storage

  /// Where the values are: an array, or in place inside a received frame.
  private enum Storage: Sendable {
    case owned([Float])
    /// `count` float32 values at byte `offset` of `bytes`, 4-byte aligned, in host order.
    case borrowed(SharedBytes, offset: Int, count: Int)
  }

  public init(dense values: [Float]) {
    encoding = .dense
    parameterCount = values.count
    storage = .owned(values)
    indices = []
    seed = 0
  }

  /// A dense share whose values are read in place from `bytes` (a received frame): no copy.
  /// The caller guarantees `count` host-order float32 values at `offset`, 4-byte aligned.
  /// `checked` says whether they are known to be finite.
  public init(denseBorrowing bytes: SharedBytes, offset: Int, count: Int, checked: Bool = true) {
    precondition(offset >= 0 && offset + count * 4 <= bytes.count, "share outside its frame")
    precondition(Int(bitPattern: bytes.base + offset) % MemoryLayout<Float>.alignment == 0, "unaligned share")
    encoding = .dense
    parameterCount = count
    storage = .borrowed(bytes, offset: offset, count: count)
    indices = []
    seed = 0
    valuesChecked = checked
  }

  public init(indexed indices: [Int], values: [Float], parameterCount: Int) {
    encoding = .indexed
    self.parameterCount = parameterCount
    self.indices = indices
    storage = .owned(values)
    seed = 0
  }

  public init(seed: UInt64, indices: [Int], values: [Float], parameterCount: Int) {
    encoding = .seeded
    self.parameterCount = parameterCount
    self.indices = indices
    storage = .owned(values)
    self.seed = seed
  }

  /// The shared values (all of them for `.dense`). Reading a borrowed share's values copies
  /// them; hot paths use `withUnsafeValues`.
  public var values: [Float] {
    get { withUnsafeValues { Array($0) } }
    set { storage = .owned(newValue) }
  }

  /// Number of shared values.
  public var count: Int {
    switch storage {
    case .owned(let values): return values.count
    case .borrowed(_, _, let count): return count
    }
  }

  /// Calls `body` with the values in place.
  public func withUnsafeValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    switch storage {
    case .owned(let values):
      return try values.withUnsafeBufferPointer(body)
    case .borrowed(let bytes, let offset, let count):
      let start = (bytes.base + offset).assumingMemoryBound(to: Float.self)
      return try withExtendedLifetime(bytes) { try body(UnsafeBufferPointer(start: start, count: count)) }
    }
  }

  public static func == (a: Share, b: Share) -> Bool {
    a.encoding == b.encoding && a.parameterCount == b.parameterCount && a.indices == b.indices && a.seed == b.seed
      && a.withUnsafeValues { x in b.withUnsafeValues { y in x.elementsEqual(y) } }
  }

  /// Bytes of parameter values on the wire.
  public var dataBytes: Int { count * 4 }
  /// Bytes of indices or seed on the wire.
  public var metadataBytes: Int {
    switch encoding {
    case .dense: return 0
    case .indexed: return indices.count * 4
    case .seeded: return 8
    }
  }
}
