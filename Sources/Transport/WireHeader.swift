/// The kinds of message on the wire. Values are fixed by docs/protocol.md; new kinds take new
/// numbers, and a receiver drops (and counts) a kind it does not know.
public enum MessageKind: UInt8, Sendable, CaseIterable {
  /// "I am up; here is my degree." Sent at start (and after a restart) until answered.
  case hello = 1
  /// Answer to HELLO.
  case helloAck = 2
  /// "I am leaving on purpose." The receiver marks the sender departed at once.
  case bye = 3
  /// Model parameters (a share) for one round or step.
  case model = 4
  /// "Still alive", sent to the peers a node exchanges heartbeats with; carries no payload.
  case heartbeat = 5
  /// "The run is over": the receiver forwards it once to its own peers and stops (random walk:
  /// the first node to reach its iteration count ends the run for everyone).
  case stop = 6
}

/// How the payload is laid out. Values match `Sharing.ShareEncoding` and are fixed by
/// docs/protocol.md §4: a new layout takes a new number, a receiver drops (and counts) one it
/// does not know.
///
/// Encodings 1–3 have a length fixed by `elementCount`, which the transport checks exactly.
/// Encodings 4–8 start with a flags byte and hold variable-length sections (index streams,
/// compressed values); the transport checks their fixed minimum and that they do not claim more
/// elements than the model has, and the share codec checks every section before reading it.
public enum PayloadEncoding: UInt8, Sendable, CaseIterable {
  case none = 0
  /// `elementCount` little-endian float32 values.
  case rawFloat32 = 1
  /// `elementCount` pairs of (u32 index, f32 value).
  case indexValue = 2
  /// A u64 seed, then `elementCount` float32 values (SubSampling).
  case seedValues = 3
  /// Prefix, bits and block size, then block scales and codes for every parameter (CHOCO).
  case quantized = 4
  /// Prefix, Exp-Golomb index stream, then `elementCount` float32 values (PartialModel, TopK).
  case sparse = 5
  /// Prefix, Exp-Golomb index stream, bits and block size, then scales and codes (CHOCO + TopK).
  case sparseQuantized = 6
  /// Prefix, then float32 values for every parameter (compressed full sharing, CHOCO keyframes).
  case framedFloat32 = 7
  /// Prefix, u64 seed, then `elementCount` float32 values (compressed SubSampling).
  case framedSeedValues = 8

  /// Bytes a payload of `elements` elements must have, or nil when the length is variable or
  /// cannot be computed.
  func expectedLength(elements: UInt64) -> UInt64? {
    let (result, overflow): (UInt64, Bool)
    switch self {
    case .none: return elements == 0 ? 0 : nil
    case .rawFloat32: (result, overflow) = elements.multipliedReportingOverflow(by: 4)
    case .indexValue: (result, overflow) = elements.multipliedReportingOverflow(by: 8)
    case .seedValues:
      let (v, o) = elements.multipliedReportingOverflow(by: 4)
      if o { return nil }
      (result, overflow) = v.addingReportingOverflow(8)
    case .quantized, .sparse, .sparseQuantized, .framedFloat32, .framedSeedValues: return nil
    }
    return overflow ? nil : result
  }

  /// Whether `expectedLength` fixes the payload length.
  var hasFixedLength: Bool { rawValue <= PayloadEncoding.seedValues.rawValue }

  /// The fewest bytes a variable-length payload can have: its flags byte and fixed fields.
  var minimumLength: UInt64 {
    switch self {
    case .quantized: return 6  // flags, bits, block size
    case .sparse: return 6  // flags, index order, stream length
    case .sparseQuantized: return 11
    case .framedFloat32: return 1
    case .framedSeedValues: return 9  // flags, seed
    default: return 0
    }
  }
}

/// The fixed 64-byte header that starts every frame (docs/protocol.md has the byte table).
///
/// Little-endian throughout. Fields a message kind does not use are zero.
public struct WireHeader: Sendable, Equatable {
  public static let size = 64
  public static let magic: [UInt8] = [0x50, 0x45, 0x45, 0x52]  // "PEER"
  public static let version: UInt8 = 1

  public var kind: MessageKind
  public var encoding: PayloadEncoding = .none
  public var flags: UInt8 = 0
  public var sender: UInt32
  /// The sender's current (live) degree, for Metropolis–Hastings weights.
  public var degree: UInt32 = 0
  /// Round (D-PSGD, FedAvg) or step (asynchronous algorithms).
  public var round: UInt64 = 0
  /// Model age (RWM) or training counter (SwarmAvg).
  public var age: UInt64 = 0
  /// Algorithm-specific: sample count (FedAvg), sharing seed, …
  public var aux: UInt64 = 0
  /// Parameter count of the sender's full model: a receiver rejects a model of another shape.
  public var parameterCount: UInt32 = 0
  /// Elements in the payload (values, or index/value pairs).
  public var elementCount: UInt32 = 0
  /// Payload bytes following the header.
  public var payloadLength: UInt64 = 0

  public init(kind: MessageKind, sender: UInt32) {
    self.kind = kind
    self.sender = sender
  }
}
