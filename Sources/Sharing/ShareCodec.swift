import Numerics

/// Shares to payload bytes and back, little-endian (docs/protocol.md §4).
///
/// The runtime's frame builder asks `payloadSize(of:)`, allocates header and payload as one
/// `SharedBytes`, writes the 64-byte header and lets `encodePayload(_:into:)` write the payload
/// straight after it: a share's values are copied exactly once, from the share into the frame.
/// Decoding (ShareCodec+Decode.swift) checks every length against the bytes present before it
/// reads or allocates anything.
public enum ShareCodec {
  /// Flag bits of the prefix byte that starts encodings 4–8.
  enum Flag {
    static let compressed: UInt8 = 1
    static let publicCopy: UInt8 = 2
    static let keyframe: UInt8 = 4
    static let known: UInt8 = 7
  }

  /// Bytes `encodePayload` writes for `share`.
  public static func payloadSize(of share: Share) -> Int {
    switch share.encoding {
    case .dense: return 4 * share.count
    case .indexed: return 8 * share.count
    case .seeded: return 8 + 4 * share.count
    case .quantized: return prefixSize(share) + 5 + valuesSectionSize(share)
    case .sparse: return prefixSize(share) + 5 + share.indexCode.bytes + valuesSectionSize(share)
    case .sparseQuantized: return prefixSize(share) + 10 + share.indexCode.bytes + valuesSectionSize(share)
    case .framedDense: return prefixSize(share) + valuesSectionSize(share)
    case .framedSeeded: return prefixSize(share) + 8 + valuesSectionSize(share)
    }
  }

  /// Writes the payload of `share` into `out`, which must be exactly `payloadSize(of:)` bytes.
  public static func encodePayload(_ share: Share, into out: UnsafeMutableRawBufferPointer) {
    precondition(out.count == payloadSize(of: share), "encodePayload: buffer is not payloadSize(of:) bytes")
    var w = ByteWriter(out)
    let encoding = share.encoding
    switch encoding {
    case .dense:
      writeRawValuesSection(of: share, into: w.reserve(4 * share.count))
      return
    case .seeded:
      if case .seeded(let seed, _) = share.selection { w.u64(seed) }
      writeRawValuesSection(of: share, into: w.reserve(4 * share.count))
      return
    case .indexed:
      preconditionFailure("this build never sends index+value pairs")
    default: break
    }
    writePrefix(share, &w)
    if encoding == .sparse || encoding == .sparseQuantized {
      w.u8(UInt8(share.indexCode.order))
      w.u32(UInt32(share.indexCode.bytes))
      let stream = w.reserve(share.indexCode.bytes)
      share.indices.withUnsafeBufferPointer { IndexCoding.encode($0, order: share.indexCode.order, into: stream) }
    }
    if let q = share.quantizedValues {
      w.u8(UInt8(q.bits))
      w.u32(UInt32(q.blockSize))
    }
    if encoding == .framedSeeded, case .seeded(let seed, _) = share.selection { w.u64(seed) }
    if let packed = share.compressedValues {
      w.u32(UInt32(packed.count))
      packed.withUnsafeBytes { w.bytes($0) }
    } else {
      writeRawValuesSection(of: share, into: w.reserve(rawValuesSectionSize(of: share)))
    }
    precondition(w.offset == out.count, "encodePayload wrote \(w.offset) of \(out.count) bytes")
  }

  /// The payload as an array (tests, documentation examples).
  public static func encode(_ share: Share) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: payloadSize(of: share))
    out.withUnsafeMutableBytes { encodePayload(share, into: $0) }
    return out
  }

  static func prefixSize(_ share: Share) -> Int {
    guard let tag = share.publicCopy else { return 1 }
    return 1 + 9 + 4 * min(tag.resend.count, 255)
  }

  private static func writePrefix(_ share: Share, _ w: inout ByteWriter) {
    var flags: UInt8 = share.compressedValues != nil ? Flag.compressed : 0
    guard let tag = share.publicCopy else { return w.u8(flags) }
    flags |= Flag.publicCopy | (tag.keyframe ? Flag.keyframe : 0)
    w.u8(flags)
    w.u32(tag.base)
    w.u32(tag.sequence)
    let resend = tag.resend.prefix(255)
    w.u8(UInt8(resend.count))
    for uid in resend { w.u32(uid) }
  }

  /// The values section as sent: compressed (with its u32 length) or raw.
  static func valuesSectionSize(_ share: Share) -> Int {
    if let packed = share.compressedValues { return 4 + packed.count }
    return rawValuesSectionSize(of: share)
  }

  /// Uncompressed values section: 4 bytes a float32 value, or the scales and codes.
  static func rawValuesSectionSize(of share: Share) -> Int {
    guard let q = share.quantizedValues else { return 4 * share.count }
    return quantizedSectionSize(count: q.count, bits: q.bits, blockSize: q.blockSize)
  }

  static func quantizedSectionSize(count: Int, bits: Int, blockSize: Int) -> Int {
    4 * QuantizedValues.blockCount(count: count, blockSize: blockSize)
      + QuantizedValues.codeBytes(count: count, bits: bits)
  }

  static func writeRawValuesSection(of share: Share, into out: UnsafeMutableRawBufferPointer) {
    var w = ByteWriter(out)
    if let q = share.quantizedValues {
      q.scales.withUnsafeBytes { w.bytes($0) }
      q.codes.withUnsafeBytes { w.bytes($0) }
    } else {
      share.withUnsafeValues { w.bytes(UnsafeRawBufferPointer($0)) }
    }
  }

  /// The position of the first NaN or infinity (all-ones exponent).
  ///
  /// This runs over every value of every dense share received, so it is written as explicit
  /// 16-lane vector operations: the compiler left the plain loop scalar, and it took a fifth of
  /// a 16-node MovieLens cluster's CPU time.
  public static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
    guard let base = values.baseAddress else { return nil }
    let raw = UnsafeRawPointer(base)
    let exponent = SIMD16<UInt32>(repeating: 0x7f80_0000)
    var seen = SIMDMask<SIMD16<Int32>>(repeating: false)
    var i = 0
    while i + 16 <= values.count {
      let bits = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<UInt32>.self) & exponent
      seen = seen .| (bits .== exponent)
      i += 16
    }
    var found = any(seen)
    while !found && i < values.count {
      found = !values[i].isFinite
      i += 1
    }
    guard found else { return nil }
    return values.firstIndex { !$0.isFinite }
  }
}
