import Numerics

/// How a share is laid out on the wire.
///
/// The raw values are the `payload encoding` byte of the wire header (docs/protocol.md §4), so the
/// Transport layer and this one agree without importing each other. Values are never reused:
/// a new layout takes a new number.
public enum ShareEncoding: UInt8, Sendable, CaseIterable {
  /// Every parameter, in vector order, as little-endian float32 (full sharing's zero-copy frame).
  case dense = 1
  /// `count` pairs of (u32 index, f32 value), indices strictly increasing. Decoded for peers
  /// written against protocol 1's first table; this build sends `.sparse` instead.
  case indexed = 2
  /// A u64 seed, then float32 values; the receiver regenerates the indices from the seed and the
  /// value count (SubSampling; the algorithm is fixed by docs/protocol.md).
  case seeded = 3
  /// Every parameter, block-quantized (CHOCO deltas): prefix, bits and block size, scales, codes.
  case quantized = 4
  /// Exp-Golomb coded sorted indices, then float32 values (PartialModel, RandomAlpha, TopK).
  case sparse = 5
  /// Exp-Golomb coded sorted indices, then block-quantized values (CHOCO with TopK).
  case sparseQuantized = 6
  /// Every parameter as float32, after a prefix: compressed full sharing, CHOCO keyframes and
  /// unquantized CHOCO deltas.
  case framedDense = 7
  /// `.seeded` after a prefix: compressed SubSampling.
  case framedSeeded = 8
}

/// Which parameters a share carries.
public enum ShareSelection: Sendable, Equatable {
  /// All of them, in vector order.
  case all
  /// These, strictly increasing.
  case indices([UInt32])
  /// The ones `SeededMask` draws from `seed` (kept alongside, so nobody regenerates twice).
  case seeded(seed: UInt64, indices: [UInt32])
}

/// What a CHOCO share says about the public copy it updates (docs/protocol.md §4.3).
///
/// A receiver holds one copy of each sender's public model, tagged with the sequence number of
/// the last update it applied. A delta applies only to the copy tagged `base` and tags it
/// `sequence`; a keyframe replaces the copy whatever it held. `resend` lists the uids whose
/// deltas this sender had to reject: each of them answers with a keyframe.
public struct PublicCopyTag: Sendable, Equatable {
  public var base: UInt32
  public var sequence: UInt32
  public var keyframe: Bool
  public var resend: [UInt32]

  public init(base: UInt32, sequence: UInt32, keyframe: Bool, resend: [UInt32] = []) {
    self.base = keyframe ? 0 : base
    self.sequence = sequence
    self.keyframe = keyframe
    self.resend = resend
  }
}

/// What one node sends of its model in one message.
///
/// A share is a value: the sender builds it from the parameter vector, `ShareCodec` writes it
/// once into the frame, and the receiver decodes it and hands it to the strategy and the
/// `Aggregator`. Arrays inside it are copy-on-write, so a strategy that hands out its workspace
/// arrays reuses them the next round when the share is gone, and copies them only when a share
/// is still alive (never silently shared mutable state).
public struct Share: Sendable {
  /// Length of the full parameter vector the share was cut from.
  public let parameterCount: Int
  public private(set) var selection: ShareSelection
  /// Set on CHOCO shares only.
  public var publicCopy: PublicCopyTag?
  /// Whether every float value is known to be finite. Decoded arrays are checked by the codec;
  /// a dense share borrowed from its frame is checked by the `Aggregator` while it averages it,
  /// so that the received bytes are read once, not twice.
  public internal(set) var valuesChecked = true
  /// The values section already compressed with zstd (set by `compressValues()`); the codec then
  /// writes these bytes instead of the raw section.
  public internal(set) var compressedValues: [UInt8]?
  var storage: Storage
  /// Exp-Golomb order and stream length of `.indices`, planned once when the share is made.
  var indexCode: (order: Int, bytes: Int) = (0, 0)

  enum Storage: Sendable {
    case owned([Float])
    /// `count` float32 values at byte `offset` of `bytes`, 4-byte aligned, in host order.
    case borrowed(SharedBytes, offset: Int, count: Int)
    case quantized(QuantizedValues)
  }

  public init(dense values: [Float]) {
    parameterCount = values.count
    selection = .all
    storage = .owned(values)
  }

  /// A dense share whose values are read in place from `bytes` (a received frame): no copy.
  /// The caller guarantees `count` host-order float32 values at `offset`, 4-byte aligned.
  public init(denseBorrowing bytes: SharedBytes, offset: Int, count: Int, checked: Bool = true) {
    precondition(offset >= 0 && offset + count * 4 <= bytes.count, "share outside its frame")
    precondition(Int(bitPattern: bytes.base + offset) % MemoryLayout<Float>.alignment == 0, "unaligned share")
    parameterCount = count
    selection = .all
    storage = .borrowed(bytes, offset: offset, count: count)
    valuesChecked = checked
  }

  /// `values[k]` is parameter `indices[k]`; indices strictly increasing and below `parameterCount`.
  public init(indices: [UInt32], values: [Float], parameterCount: Int) {
    precondition(indices.count == values.count, "one value per index")
    self.parameterCount = parameterCount
    selection = .indices(indices)
    storage = .owned(values)
    indexCode = indices.withUnsafeBufferPointer(IndexCoding.plan)
  }

  /// A SubSampling share: `indices` must be `SeededMask.indices(seed:count:parameterCount:)`.
  public init(seed: UInt64, indices: [UInt32], values: [Float], parameterCount: Int) {
    precondition(indices.count == values.count, "one value per index")
    self.parameterCount = parameterCount
    selection = .seeded(seed: seed, indices: indices)
    storage = .owned(values)
  }

  /// Quantized values for every parameter (`.all`) or for `indices`.
  public init(quantized values: QuantizedValues, indices: [UInt32]?, parameterCount: Int, publicCopy: PublicCopyTag) {
    precondition(values.count == (indices?.count ?? parameterCount), "one value per selected parameter")
    self.parameterCount = parameterCount
    selection = indices.map { .indices($0) } ?? .all
    storage = .quantized(values)
    self.publicCopy = publicCopy
    if let indices { indexCode = indices.withUnsafeBufferPointer(IndexCoding.plan) }
  }

  /// Everything at once (the decoder, which has read the index plan from the wire).
  init(
    parameterCount: Int, selection: ShareSelection, storage: Storage, publicCopy: PublicCopyTag?,
    indexCode: (order: Int, bytes: Int), compressedValues: [UInt8]?
  ) {
    self.parameterCount = parameterCount
    self.selection = selection
    self.storage = storage
    self.publicCopy = publicCopy
    self.indexCode = indexCode
    self.compressedValues = compressedValues
  }

  /// The same share carrying a public-copy tag (CHOCO's unquantized deltas and keyframes).
  public func tagged(_ tag: PublicCopyTag) -> Share {
    var copy = self
    copy.publicCopy = tag
    return copy
  }

  /// The wire layout this share takes.
  public var encoding: ShareEncoding {
    let framed = publicCopy != nil || compressedValues != nil
    switch (selection, storage) {
    case (.all, .quantized): return .quantized
    case (_, .quantized): return .sparseQuantized
    case (.all, _): return framed ? .framedDense : .dense
    case (.indices, _): return .sparse
    case (.seeded, _): return framed ? .framedSeeded : .seeded
    }
  }

  /// Number of values carried (the header's `element_count`).
  public var count: Int {
    switch storage {
    case .owned(let values): return values.count
    case .borrowed(_, _, let count): return count
    case .quantized(let q): return q.count
    }
  }

  /// The selected parameters' indices (empty for `.all`).
  public var indices: [UInt32] {
    switch selection {
    case .all: return []
    case .indices(let i), .seeded(_, let i): return i
    }
  }

  /// Quantized values, or nil for float32 shares.
  public var quantizedValues: QuantizedValues? {
    if case .quantized(let q) = storage { return q }
    return nil
  }

  /// The float values (dequantized for quantized shares). Copies; hot paths use `withUnsafeValues`.
  public var values: [Float] {
    if case .quantized(let q) = storage { return q.dequantized() }
    return withUnsafeValues { Array($0) }
  }

  /// Calls `body` with the float32 values in place. Not for quantized shares.
  public func withUnsafeValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    switch storage {
    case .owned(let values):
      return try values.withUnsafeBufferPointer(body)
    case .borrowed(let bytes, let offset, let count):
      let start = (bytes.base + offset).assumingMemoryBound(to: Float.self)
      return try withExtendedLifetime(bytes) { try body(UnsafeBufferPointer(start: start, count: count)) }
    case .quantized:
      preconditionFailure("withUnsafeValues on a quantized share")
    }
  }

  /// Bytes of parameter values on the wire: float32 values, or quantization scales and codes
  /// (compressed when they are sent compressed). decentralizepy's `total_data_per_n`.
  public var dataBytes: Int { compressedValues?.count ?? ShareCodec.rawValuesSectionSize(of: self) }
  /// Payload bytes that are not values: indices, seeds, flags, copy tags (`total_meta` adds the
  /// 64-byte header).
  public var metadataBytes: Int { ShareCodec.payloadSize(of: self) - dataBytes }

  /// Compresses the values section with zstd when that makes it smaller; a share that does not
  /// gain stays uncompressed (and full sharing then keeps its plain dense frame).
  public mutating func compressValues(with compressor: ZstdCompressor) {
    compressedValues = nil
    let rawSize = ShareCodec.rawValuesSectionSize(of: self)
    guard rawSize > 0 else { return }
    let packed: [UInt8]?
    switch storage {
    case .quantized(let q):
      packed = q.scales.withUnsafeBytes { s in q.codes.withUnsafeBytes { c in compressor.compress([s, c]) } }
    default:
      packed = withUnsafeValues { compressor.compress([UnsafeRawBufferPointer($0)]) }
    }
    if let packed, packed.count < rawSize { compressedValues = packed }
  }
}

extension Share: Equatable {
  /// Same layout, same tag and the same value bits (not float equality: -0 and 0 differ on the wire).
  public static func == (a: Share, b: Share) -> Bool {
    guard a.parameterCount == b.parameterCount, a.selection == b.selection, a.publicCopy == b.publicCopy,
      a.count == b.count, a.compressedValues == b.compressedValues
    else { return false }
    switch (a.storage, b.storage) {
    case (.quantized(let x), .quantized(let y)): return x == y
    case (.quantized, _), (_, .quantized): return false
    default:
      return a.withUnsafeValues { x in
        b.withUnsafeValues { y in x.elementsEqual(y) { $0.bitPattern == $1.bitPattern } }
      }
    }
  }
}
