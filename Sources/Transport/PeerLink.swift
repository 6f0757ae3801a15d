import Numerics
import Sharing

/// A control frame: HELLO, HELLO_ACK, HEARTBEAT, BYE or STOP. Every one announces where its
/// sender is (`round`) and its live degree, so a peer learns both from any frame.
public struct ControlMessage: Sendable, Equatable {
  public var kind: MessageKind
  public var sender: Int
  public var round: Int
  public var degree: Int
  public var flags: UInt8
  /// The sender's incarnation: a number it drew when its process started, the same in every
  /// control frame it sends. A new one means the peer restarted.
  public var incarnation: UInt64

  /// HELLO flag: the sender is probing a peer it believed down (it has not just started).
  public static let probeFlag: UInt8 = 0x01

  public var isProbe: Bool { flags & Self.probeFlag != 0 }
}

/// One peer's model share for one round or step, decoded and checked.
public struct ModelMessage: Sendable {
  public var sender: Int
  public var round: Int
  public var degree: Int
  /// Age (RWM) or training counter (SwarmAvg); 0 for D-PSGD.
  public var age: UInt64
  /// Algorithm-specific word: the FedAvg sample count, for example.
  public var aux: UInt64
  public var share: Share
  /// Bytes of the whole frame (what buffering it costs).
  public var frameBytes: Int

  public init(
    sender: Int, round: Int, degree: Int, age: UInt64 = 0, aux: UInt64 = 0, share: Share, frameBytes: Int = 0
  ) {
    self.sender = sender
    self.round = round
    self.degree = degree
    self.age = age
    self.aux = aux
    self.share = share
    self.frameBytes = frameBytes
  }
}

/// A decoded inbound frame.
public enum InboundEvent: Sendable {
  case control(ControlMessage)
  case model(ModelMessage)
  /// A MODEL frame whose header is sound but whose share is not (a NaN in an indexed share, a
  /// parameter count of another model): the sender and round are known, so the runtime can stop
  /// waiting for it, but nothing of it is averaged. One bad frame costs that frame, never the link.
  case unusableModel(sender: Int, round: Int, reason: RejectReason)
  /// A frame that failed the wire checks, from the routing identity `sender`: dropped and
  /// counted already.
  case dropped(sender: Int, reason: RejectReason)
}

/// Why a frame, or part of one, was not used. The key is what results files and logs print.
public enum RejectReason: Sendable, Equatable, CustomStringConvertible {
  case malformedFrame(WireError)
  case senderMismatch(header: Int, identity: Int)
  case badShare(ShareDecodingError)
  /// The sharing method refused a decoded share (a CHOCO delta for another state of the
  /// sender's public copy, a layout this method cannot average).
  case refusedShare(SharingError)
  case roundOutOfRange
  /// Dropped by the runtime: a sender the algorithm does not take models from.
  case notAdmitted
  /// Dropped by the runtime: a round already averaged.
  case staleRound
  /// Dropped by the runtime: beyond the buffering bound (rounds ahead or bytes).
  case beyondBufferBound
  /// Parameter values left out of an average because they were NaN or infinite.
  case nonFiniteValues
  /// A frame kind the runtime has no use for from this sender.
  case unexpectedControl(MessageKind)

  /// A stable, short key for counting (the results file's `rejected_frames`).
  public var key: String {
    switch self {
    case .malformedFrame(let e): return "malformed frame: \(e.key)"
    case .senderMismatch: return "sender does not match identity"
    case .badShare(let e): return "bad share: \(e.key)"
    case .refusedShare(let e): return "share refused: \(e.key)"
    case .roundOutOfRange: return "round out of range"
    case .notAdmitted: return "model from a sender not admitted"
    case .staleRound: return "stale round"
    case .beyondBufferBound: return "beyond the buffering bound"
    case .nonFiniteValues: return "non-finite values"
    case .unexpectedControl(let k): return "unexpected \(k)"
    }
  }

  public var description: String {
    switch self {
    case .malformedFrame(let e): return "malformed frame: \(e)"
    case .senderMismatch(let h, let i): return "header says sender \(h), routing identity says \(i)"
    case .badShare(let e): return "bad share: \(e)"
    case .refusedShare(let e): return "share refused: \(e)"
    default: return key
    }
  }
}

extension WireError {
  /// The kind of error without its numbers, for counting.
  var key: String {
    switch self {
    case .tooShort: return "too short"
    case .badMagic: return "bad magic"
    case .unsupportedVersion: return "unsupported version"
    case .unknownKind: return "unknown kind"
    case .unknownEncoding: return "unknown encoding"
    case .payloadLengthMismatch: return "payload length mismatch"
    case .elementCountMismatch: return "element count mismatch"
    case .nonZeroReserved: return "reserved bytes not zero"
    }
  }
}

extension ShareDecodingError {
  var key: String {
    switch self {
    case .unsupportedEncoding: return "unsupported encoding"
    case .parameterCountMismatch: return "parameter count mismatch"
    case .lengthMismatch: return "length mismatch"
    case .elementCountMismatch: return "element count mismatch"
    case .truncated: return "truncated"
    case .trailingBytes: return "trailing bytes"
    case .unknownFlags: return "unknown flags"
    case .unsupportedQuantization: return "unsupported quantization"
    case .badQuantizedValues: return "bad quantized values"
    case .badIndexStream: return "bad index stream"
    case .badCompressedValues: return "bad compressed values"
    case .indexOutOfRange: return "index out of range"
    case .indicesNotIncreasing: return "indices not increasing"
    case .nonFiniteValue: return "non-finite value"
    }
  }
}

extension SharingError {
  var key: String {
    switch self {
    case .unknownStrategy: return "unknown strategy"
    case .invalidSetting: return "invalid setting"
    case .unsupportedShare: return "another sharing method"
    case .publicCopyOutOfSync: return "public copy out of sync"
    case .publicCopyNotFinite: return "public copy not finite"
    case .checkpointMismatch, .checkpointCorrupt: return "checkpoint"
    }
  }
}

/// Turns shares and control messages into wire frames and back, sends them over a
/// `MessageTransport`, and keeps the traffic ledger (data vs metadata bytes per peer, which is what
/// decentralizepy reports as `total_data_per_n` and `total_meta`).
///
/// Inbound frames that fail any check are dropped and counted here by reason; the node goes on.
/// It does not decide who may send what: that is the runtime's admission rule.
public final class PeerLink {
  public let uid: Int
  public let transport: any MessageTransport
  public private(set) var ledger = TrafficLedger()
  /// Frames, or parts of frames, not used, by reason key.
  public private(set) var rejected: [String: Int] = [:]
  public private(set) var controlBytesSent = 0
  private let parameterCount: Int

  /// Drawn once per process from the system's random source, so a restart (same uid, same seed)
  /// always announces a new one.
  public let incarnation: UInt64

  public init(
    uid: Int, transport: any MessageTransport, parameterCount: Int, incarnation: UInt64 = .random(in: 1...UInt64.max)
  ) {
    self.uid = uid
    self.transport = transport
    self.parameterCount = parameterCount
    self.incarnation = incarnation
  }

  /// An encoded model frame: encoded once, queued to every recipient.
  public struct EncodedModel {
    /// The whole frame, shared (not copied) by every send.
    public var frame: SharedBytes
    public var dataBytes: Int
    public var metadataBytes: Int
  }

  /// Header fields of a MODEL frame that the algorithm chooses.
  public struct ModelFields: Sendable {
    public var round: Int
    public var degree: Int
    public var age: UInt64 = 0
    public var aux: UInt64 = 0
    public init(round: Int, degree: Int, age: UInt64 = 0, aux: UInt64 = 0) {
      self.round = round
      self.degree = degree
      self.age = age
      self.aux = aux
    }
  }

  private func modelHeader(_ f: ModelFields, encoding: PayloadEncoding, parameterCount: Int, elements: Int)
    -> WireHeader
  {
    var header = WireHeader(kind: .model, sender: UInt32(uid))
    header.encoding = encoding
    header.degree = UInt32(clamping: f.degree)
    header.round = UInt64(max(0, f.round))
    header.age = f.age
    header.aux = f.aux
    header.parameterCount = UInt32(parameterCount)
    header.elementCount = UInt32(elements)
    return header
  }

  /// Frames a share: header and payload written once, straight into the frame every
  /// recipient's queue shares.
  public func encodeModel(_ share: Share, _ fields: ModelFields) -> EncodedModel {
    let payloadSize = ShareCodec.payloadSize(of: share)
    var header = modelHeader(
      fields, encoding: PayloadEncoding(rawValue: share.encoding.rawValue) ?? .rawFloat32,
      parameterCount: share.parameterCount, elements: share.count)
    header.payloadLength = UInt64(payloadSize)
    let frame = SharedBytes(count: WireHeader.size + payloadSize) { raw in
      WireCodec.writeHeader(header, into: raw)
      ShareCodec.encodePayload(share, into: UnsafeMutableRawBufferPointer(rebasing: raw[WireHeader.size...]))
    }
    return EncodedModel(frame: frame, dataBytes: share.dataBytes, metadataBytes: frame.count - share.dataBytes)
  }

  /// Frames the whole parameter vector as a dense share in one copy (full sharing's hot path).
  public func encodeDenseModel(_ parameters: FloatBuffer, _ fields: ModelFields) -> EncodedModel {
    let dataBytes = parameters.count * 4
    var header = modelHeader(
      fields, encoding: .rawFloat32, parameterCount: parameters.count, elements: parameters.count)
    header.payloadLength = UInt64(dataBytes)
    // Every byte is written below, so there is no zero-fill pass over ~MBs; the frame is then
    // queued to every recipient without further copies.
    let frame = SharedBytes(count: WireHeader.size + dataBytes) { raw in
      WireCodec.writeHeader(header, into: raw)
      // The wire is little-endian, as is every platform peerd builds for (x86-64, arm64).
      (raw.baseAddress! + WireHeader.size).copyMemory(from: parameters.pointer, byteCount: dataBytes)
    }
    return EncodedModel(frame: frame, dataBytes: dataBytes, metadataBytes: WireHeader.size)
  }

  /// Sends an encoded model; returns false when the transport could not queue it.
  @discardableResult
  public func send(_ model: EncodedModel, to peer: Int) -> Bool {
    let ok = transport.send(model.frame, to: peer)
    if ok { ledger.recordSent(to: peer, data: model.dataBytes, metadata: model.metadataBytes) }
    return ok
  }

  /// Sends a control frame. Control traffic is counted apart from model traffic, so that the
  /// byte accounting of a run is deterministic.
  @discardableResult
  public func sendControl(_ kind: MessageKind, to peer: Int, round: Int, degree: Int, flags: UInt8 = 0) -> Bool {
    var header = WireHeader(kind: kind, sender: UInt32(uid))
    header.encoding = .none
    header.flags = flags
    header.degree = UInt32(clamping: degree)
    header.round = UInt64(max(0, round))
    header.aux = incarnation
    header.parameterCount = UInt32(parameterCount)
    let bytes = WireCodec.encode(header: header, payload: [])
    let ok = transport.send(bytes, to: peer)
    if ok { controlBytesSent += bytes.count }
    return ok
  }

  /// Waits at most `timeout` seconds for one frame and decodes it. Returns nil on timeout;
  /// throws when the transport is closed.
  public func receive(timeout: Double) throws(TransportError) -> InboundEvent? {
    guard let inbound = try transport.receive(timeout: timeout) else { return nil }
    return decode(inbound.frame, claimedSender: inbound.sender)
  }

  /// Counts a model received from a peer the runtime deals with (after admission: a stranger's
  /// frames are rejects, not traffic, and never appear in `neighbour_bytes`).
  public func recordReceived(_ m: ModelMessage) {
    ledger.recordReceived(from: m.sender, data: m.share.dataBytes, metadata: m.frameBytes - m.share.dataBytes)
  }

  /// Counts a frame, or part of one, that was not used.
  public func recordRejection(_ reason: RejectReason, count: Int = 1) {
    rejected[reason.key, default: 0] += count
  }

  /// Every reject so far: the link's own and the transport's.
  public var allRejected: [String: Int] {
    rejected.merging(transport.drops.mapKeys { "transport: \($0)" }) { $0 + $1 }
  }

  func decode(_ frame: SharedBytes, claimedSender: Int) -> InboundEvent {
    let bytes = frame.bytes
    let header: WireHeader
    do {
      header = try WireCodec.decodeHeader(bytes)
    } catch {
      recordRejection(.malformedFrame(error))
      return .dropped(sender: claimedSender, reason: .malformedFrame(error))
    }
    let sender = Int(header.sender)
    // The routing identity is set by the sender's own socket; a frame claiming another uid is a
    // stray or a forgery and is dropped.
    guard sender == claimedSender else {
      let reason = RejectReason.senderMismatch(header: sender, identity: claimedSender)
      recordRejection(reason)
      return .dropped(sender: claimedSender, reason: reason)
    }
    guard header.round <= UInt64(Int32.max) else {
      recordRejection(.roundOutOfRange)
      return .dropped(sender: claimedSender, reason: .roundOutOfRange)
    }
    let round = Int(header.round)
    guard header.kind == .model else {
      return .control(
        ControlMessage(
          kind: header.kind, sender: sender, round: round, degree: Int(header.degree), flags: header.flags,
          incarnation: header.aux))
    }
    let share: Share
    do {
      // A dense share keeps its values in the received frame: no copy before averaging.
      share = try ShareCodec.decode(
        encoding: header.encoding.rawValue, payload: UnsafeRawBufferPointer(rebasing: bytes[WireHeader.size...]),
        elements: Int(header.elementCount), parameterCount: parameterCount,
        declaredParameterCount: Int(header.parameterCount), backing: frame)
    } catch {
      recordRejection(.badShare(error))
      return .unusableModel(sender: sender, round: round, reason: .badShare(error))
    }
    return .model(
      ModelMessage(
        sender: sender, round: round, degree: Int(header.degree), age: header.age, aux: header.aux, share: share,
        frameBytes: bytes.count))
  }

  /// Continues counting from a checkpoint's ledger.
  public func restore(ledger saved: TrafficLedger) { ledger = saved }

  public func close() { transport.close() }
}

extension Dictionary {
  fileprivate func mapKeys(_ f: (Key) -> String) -> [String: Value] {
    var out: [String: Value] = [:]
    for (k, v) in self { out[f(k)] = v }
    return out
  }
}
