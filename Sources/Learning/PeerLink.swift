import Numerics
import Sharing
import Transport

/// A decoded inbound message, after the wire codec and the share codec have checked it.
public enum InboundEvent {
  case hello(from: Int, degree: Int)
  case helloAck(from: Int, degree: Int)
  case heartbeat(from: Int)
  case bye(from: Int)
  case model(ModelMessage)
}

/// One neighbour's model for one round or step.
public struct ModelMessage {
  public var sender: Int
  public var round: Int
  public var degree: Int
  /// Age (RWM) or training counter (SwarmAvg); 0 for D-PSGD.
  public var age: UInt64
  /// Algorithm-specific word: FedAvg sample count, for example.
  public var aux: UInt64
  public var share: Share
}

/// The node's messaging: turns model shares and control messages into wire frames, sends them
/// over a `MessageTransport`, and keeps the traffic ledger (data vs metadata bytes per
/// neighbour, which is what decentralizepy reports as `total_data_per_n` and `total_meta`).
///
/// Inbound frames that fail any check are dropped and counted here; the node goes on.
public final class PeerLink {
  public let uid: Int
  let transport: any MessageTransport
  public private(set) var ledger = TrafficLedger()
  /// Frames dropped, by reason, for the log and the results file.
  public private(set) var rejected: [String: Int] = [:]
  private let parameterCount: Int
  private let sharing: any SharingStrategy

  public init(uid: Int, transport: any MessageTransport, parameterCount: Int, sharing: any SharingStrategy) {
    self.uid = uid
    self.transport = transport
    self.parameterCount = parameterCount
    self.sharing = sharing
  }

  /// An encoded model frame: encode once per round, send to every neighbour.
  public struct EncodedModel {
    /// The whole frame, shared (not copied) by every send.
    public var frame: SharedBytes
    public var dataBytes: Int
    public var metadataBytes: Int
  }

  /// The header of a MODEL frame from this node.
  private func modelHeader(
    encoding: PayloadEncoding, round: Int, degree: Int, age: UInt64, aux: UInt64, parameterCount: Int, elements: Int
  ) -> WireHeader {
    var header = WireHeader(kind: .model, sender: UInt32(uid))
    header.encoding = encoding
    header.degree = UInt32(degree)
    header.round = UInt64(round)
    header.age = age
    header.aux = aux
    header.parameterCount = UInt32(parameterCount)
    header.elementCount = UInt32(elements)
    return header
  }

  public func encodeModel(_ share: Share, round: Int, degree: Int, age: UInt64 = 0, aux: UInt64 = 0) -> EncodedModel {
    let payloadSize = ShareCodec.payloadSize(of: share)
    var header = modelHeader(
      encoding: PayloadEncoding(rawValue: share.encoding.rawValue) ?? .rawFloat32, round: round, degree: degree,
      age: age, aux: aux, parameterCount: share.parameterCount, elements: share.count)
    header.payloadLength = UInt64(payloadSize)
    // The share is written once, straight into the frame that every recipient's queue shares.
    let frame = SharedBytes(count: WireHeader.size + payloadSize) { raw in
      WireCodec.writeHeader(header, into: raw)
      ShareCodec.encodePayload(share, into: UnsafeMutableRawBufferPointer(rebasing: raw[WireHeader.size...]))
    }
    return EncodedModel(frame: frame, dataBytes: share.dataBytes, metadataBytes: frame.count - share.dataBytes)
  }

  /// Frames the whole parameter vector as a dense share in one copy (full sharing's hot path).
  public func encodeDenseModel(_ parameters: FloatBuffer, round: Int, degree: Int, age: UInt64 = 0, aux: UInt64 = 0)
    -> EncodedModel
  {
    let dataBytes = parameters.count * 4
    var header = modelHeader(
      encoding: .rawFloat32, round: round, degree: degree, age: age, aux: aux, parameterCount: parameters.count,
      elements: parameters.count)
    header.payloadLength = UInt64(dataBytes)
    // Every byte is written below, so there is no zero-fill pass over ~MBs; the frame is then
    // queued to every neighbour without further copies.
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

  /// Sends a control message (HELLO, HELLO_ACK, HEARTBEAT, BYE). Control traffic is counted
  /// apart from model traffic so that byte accounting of a run is deterministic.
  @discardableResult
  public func sendControl(_ kind: MessageKind, to peer: Int, degree: Int) -> Bool {
    var header = WireHeader(kind: kind, sender: UInt32(uid))
    header.encoding = .none
    header.degree = UInt32(degree)
    header.parameterCount = UInt32(parameterCount)
    let bytes = WireCodec.encode(header: header, payload: [])
    let ok = transport.send(bytes, to: peer)
    if ok { controlBytesSent += bytes.count }
    return ok
  }

  public private(set) var controlBytesSent = 0

  /// Waits at most `timeout` seconds for one valid message.
  public func receive(timeout: Double) -> InboundEvent? {
    guard let inbound = transport.receive(timeout: timeout) else { return nil }
    return decode(inbound.frame, claimedSender: inbound.sender)
  }

  private func reject(_ reason: String) -> InboundEvent? {
    recordRejection(reason)
    return nil
  }

  /// Counts a frame, or part of one, that was not used (for the log and the results file).
  public func recordRejection(_ reason: String) {
    rejected[reason, default: 0] += 1
  }

  private func decode(_ frame: SharedBytes, claimedSender: Int) -> InboundEvent? {
    let bytes = frame.bytes
    let header: WireHeader
    do {
      header = try WireCodec.decodeHeader(bytes)
    } catch {
      return reject("malformed frame: \(error)")
    }
    let sender = Int(header.sender)
    // The routing identity is set by the sender's own socket; a frame claiming another uid is
    // a stray or a forgery and is dropped.
    guard sender == claimedSender else { return reject("sender \(sender) does not match identity \(claimedSender)") }
    switch header.kind {
    case .hello: return .hello(from: sender, degree: Int(header.degree))
    case .helloAck: return .helloAck(from: sender, degree: Int(header.degree))
    case .heartbeat: return .heartbeat(from: sender)
    case .bye: return .bye(from: sender)
    case .model:
      let share: Share
      do {
        // A dense share keeps its values in the received frame: no copy before averaging.
        share = try sharing.receive(
          ShareCodec.decode(
            encoding: header.encoding.rawValue, payload: UnsafeRawBufferPointer(rebasing: bytes[WireHeader.size...]),
            elements: Int(header.elementCount), parameterCount: parameterCount,
            declaredParameterCount: Int(header.parameterCount), backing: frame), from: sender)
      } catch {
        return reject("bad share from \(sender): \(error)")
      }
      ledger.recordReceived(from: sender, data: share.dataBytes, metadata: bytes.count - share.dataBytes)
      guard header.round <= UInt64(Int.max) else { return reject("round out of range") }
      return .model(
        ModelMessage(
          sender: sender, round: Int(header.round), degree: Int(header.degree), age: header.age, aux: header.aux,
          share: share))
    }
  }

  public func close() { transport.close() }
}
