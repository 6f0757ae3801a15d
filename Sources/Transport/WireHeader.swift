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

/// How the payload is laid out. Values match `Sharing.ShareEncoding` (docs/protocol.md).
public enum PayloadEncoding: UInt8, Sendable, CaseIterable {
  case none = 0
  /// `elementCount` little-endian float32 values.
  case rawFloat32 = 1
  /// `elementCount` pairs of (u32 index, f32 value).
  case indexValue = 2
  /// A u64 seed, then `elementCount` float32 values.
  case seedValues = 3
  /// Reserved for quantized values (8 bytes scale/offset + `elementCount` bytes).
  case quantized = 4

  /// Bytes a payload of `elements` elements must have, or nil when it cannot be computed.
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
    case .quantized: (result, overflow) = elements.addingReportingOverflow(8)
    }
    return overflow ? nil : result
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
