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
  /// The shared values (all of them for `.dense`).
  public var values: [Float]
  /// Indices into the parameter vector for `.indexed` and `.seeded` shares; empty for `.dense`.
  public var indices: [Int]
  /// The seed for `.seeded` shares (0 otherwise).
  public var seed: UInt64

  public init(dense values: [Float]) {
    encoding = .dense
    parameterCount = values.count
    self.values = values
    indices = []
    seed = 0
  }

  public init(indexed indices: [Int], values: [Float], parameterCount: Int) {
    encoding = .indexed
    self.parameterCount = parameterCount
    self.indices = indices
    self.values = values
    seed = 0
  }

  public init(seed: UInt64, indices: [Int], values: [Float], parameterCount: Int) {
    encoding = .seeded
    self.parameterCount = parameterCount
    self.indices = indices
    self.values = values
    self.seed = seed
  }

  /// Bytes of parameter values on the wire.
  public var dataBytes: Int { values.count * 4 }
  /// Bytes of indices or seed on the wire.
  public var metadataBytes: Int {
    switch encoding {
    case .dense: return 0
    case .indexed: return indices.count * 4
    case .seeded: return 8
    }
  }
}
