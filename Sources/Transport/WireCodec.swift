/// Why a frame was rejected. The node drops the frame, counts it by reason, and goes on.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
  case tooShort(Int)
  case badMagic
  case unsupportedVersion(UInt8)
  case unknownKind(UInt8)
  case unknownEncoding(UInt8)
  case payloadLengthMismatch(declared: UInt64, actual: Int)
  case elementCountMismatch(encoding: PayloadEncoding, elements: UInt32, payloadLength: UInt64)
  case nonZeroReserved

  public var description: String {
    switch self {
    case .tooShort(let n): return "frame of \(n) bytes is shorter than the \(WireHeader.size)-byte header"
    case .badMagic: return "bad magic (not a peerd frame)"
    case .unsupportedVersion(let v):
      return "unsupported protocol version \(v) (this build speaks \(WireHeader.version))"
    case .unknownKind(let k): return "unknown message kind \(k)"
    case .unknownEncoding(let e): return "unknown payload encoding \(e)"
    case .payloadLengthMismatch(let d, let a): return "header declares \(d) payload bytes, frame carries \(a)"
    case .elementCountMismatch(let e, let n, let l): return "\(n) elements do not fit \(l) payload bytes as \(e)"
    case .nonZeroReserved: return "reserved header bytes are not zero"
    }
  }
}

/// A decoded frame: its header and a copy of its payload bytes.
public struct WireFrame: Sendable {
  public var header: WireHeader
  public var payload: [UInt8]
}

/// Encodes and decodes frames. The decoder checks every field before it trusts any length.
public enum WireCodec {
  /// Header followed by `payload`; `payloadLength` is set from the payload.
  public static func encode(header: WireHeader, payload: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: WireHeader.size + payload.count)
    var h = header
    h.payloadLength = UInt64(payload.count)
    out.withUnsafeMutableBytes { raw in
      writeHeader(h, into: raw)
      if !payload.isEmpty {
        payload.withUnsafeBytes { src in
          UnsafeMutableRawBufferPointer(rebasing: raw[WireHeader.size...]).copyMemory(from: src)
        }
      }
    }
    return out
  }

  /// Writes the 64 header bytes at the start of `raw` (which must hold at least 64 bytes).
  public static func writeHeader(_ h: WireHeader, into raw: UnsafeMutableRawBufferPointer) {
    for i in 0..<WireHeader.size { raw[i] = 0 }
    for i in 0..<4 { raw[i] = WireHeader.magic[i] }
    raw[4] = WireHeader.version
    raw[5] = h.kind.rawValue
    raw[6] = h.encoding.rawValue
    raw[7] = h.flags
    put32(raw, 8, h.sender)
    put32(raw, 12, h.degree)
    put64(raw, 16, h.round)
    put64(raw, 24, h.age)
    put64(raw, 32, h.aux)
    put32(raw, 40, h.parameterCount)
    put32(raw, 44, h.elementCount)
    put64(raw, 48, h.payloadLength)
  }

  /// Decodes and validates a header from the first 64 bytes of `bytes`, checking it against the
  /// frame's total length.
  public static func decodeHeader(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> WireHeader {
    guard bytes.count >= WireHeader.size else { throw .tooShort(bytes.count) }
    guard bytes[0] == 0x50, bytes[1] == 0x45, bytes[2] == 0x45, bytes[3] == 0x52 else { throw .badMagic }
    guard bytes[4] == WireHeader.version else { throw .unsupportedVersion(bytes[4]) }
    guard let kind = MessageKind(rawValue: bytes[5]) else { throw .unknownKind(bytes[5]) }
    guard let encoding = PayloadEncoding(rawValue: bytes[6]) else { throw .unknownEncoding(bytes[6]) }
    for i in 56..<64 where bytes[i] != 0 { throw .nonZeroReserved }
    var h = WireHeader(kind: kind, sender: get32(bytes, 8))
    h.encoding = encoding
    h.flags = bytes[7]
    h.degree = get32(bytes, 12)
    h.round = get64(bytes, 16)
    h.age = get64(bytes, 24)
    h.aux = get64(bytes, 32)
    h.parameterCount = get32(bytes, 40)
    h.elementCount = get32(bytes, 44)
    h.payloadLength = get64(bytes, 48)
    let actual = bytes.count - WireHeader.size
    guard h.payloadLength == UInt64(actual) else {
      throw .payloadLengthMismatch(declared: h.payloadLength, actual: actual)
    }
    if encoding.hasFixedLength {
      guard encoding.expectedLength(elements: UInt64(h.elementCount)) == h.payloadLength else {
        throw .elementCountMismatch(encoding: encoding, elements: h.elementCount, payloadLength: h.payloadLength)
      }
    } else {
      // Variable-length sections are the share codec's to check; here, only what the header alone implies.
      guard h.payloadLength >= encoding.minimumLength, h.elementCount <= h.parameterCount else {
        throw .elementCountMismatch(encoding: encoding, elements: h.elementCount, payloadLength: h.payloadLength)
      }
    }
    return h
  }

  /// Decodes a whole frame.
  public static func decode(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> WireFrame {
    let header = try decodeHeader(bytes)
    let payload = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[WireHeader.size...]))
    return WireFrame(header: header, payload: payload)
  }

  static func put32(_ raw: UnsafeMutableRawBufferPointer, _ offset: Int, _ v: UInt32) {
    for k in 0..<4 { raw[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
  }
  static func put64(_ raw: UnsafeMutableRawBufferPointer, _ offset: Int, _ v: UInt64) {
    for k in 0..<8 { raw[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
  }
  static func get32(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
    var v: UInt32 = 0
    for k in 0..<4 { v |= UInt32(raw[offset + k]) << (8 * UInt32(k)) }
    return v
  }
  static func get64(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
    var v: UInt64 = 0
    for k in 0..<8 { v |= UInt64(raw[offset + k]) << (8 * UInt64(k)) }
    return v
  }
}
