import Numerics

/// Why a received payload could not be turned into a share.
public enum ShareDecodingError: Error, CustomStringConvertible, Equatable {
  case unsupportedEncoding(UInt8)
  case lengthMismatch(encoding: ShareEncoding, bytes: Int, elements: Int)
  case parameterCountMismatch(expected: Int, got: Int)
  case indexOutOfRange(index: Int, parameterCount: Int)
  case indicesNotIncreasing(position: Int)
  case nonFiniteValue(position: Int)
  case seedRegenerationFailed

  public var description: String {
    switch self {
    case .unsupportedEncoding(let e): return "unsupported payload encoding \(e)"
    case .lengthMismatch(let e, let b, let n): return "payload of \(b) bytes does not hold \(n) \(e) elements"
    case .parameterCountMismatch(let expected, let got):
      return "share is for a model of \(got) parameters, this node's model has \(expected)"
    case .indexOutOfRange(let i, let n): return "share index \(i) outside the model's \(n) parameters"
    case .indicesNotIncreasing(let p): return "share indices not strictly increasing at position \(p)"
    case .nonFiniteValue(let p): return "share value at position \(p) is NaN or infinite"
    case .seedRegenerationFailed: return "the sharing strategy could not regenerate indices from the seed"
    }
  }
}

/// Length-checked conversion between shares and payload bytes (little-endian).
///
/// Every count is checked against the byte length before a single value is read, so a hostile or
/// truncated payload is rejected, never read past. Non-finite values are rejected too: one NaN
/// from a faulty peer would otherwise poison every model it is averaged into.
public enum ShareCodec {
  /// Payload bytes for `share`.
  public static func encode(_ share: Share) -> [UInt8] {
    switch share.encoding {
    case .dense:
      var out = [UInt8](repeating: 0, count: share.count * 4)
      out.withUnsafeMutableBytes { raw in
        share.withUnsafeValues { src in raw.copyMemory(from: UnsafeRawBufferPointer(src)) }
      }
      if !isLittleEndian { swapFloats(&out) }
      return out
    case .indexed:
      var out = [UInt8]()
      out.reserveCapacity(share.values.count * 8)
      for (i, v) in zip(share.indices, share.values) {
        appendU32(&out, UInt32(truncatingIfNeeded: i))
        appendU32(&out, v.bitPattern)
      }
      return out
    case .seeded:
      var out = [UInt8]()
      out.reserveCapacity(8 + share.values.count * 4)
      for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: share.seed >> (8 * UInt64(k)))) }
      for v in share.values { appendU32(&out, v.bitPattern) }
      return out
    }
  }

  /// Decodes a payload of `elements` elements into a share for a model of `parameterCount`
  /// parameters. `regenerate` turns a seed and a value count into indices for `.seeded` shares.
  ///
  /// With `backing`, the frame that `payload` lies in, a dense share keeps its values in place
  /// in the frame instead of copying them (when the host is little-endian and the values are
  /// 4-byte aligned, as they are in every frame peerd receives). Such a share is not scanned for
  /// NaN and infinity here: the `Aggregator` checks each value as it averages it, which reads
  /// the 4 bytes per parameter once instead of twice (a separate scan took 15 % of a 16-node
  /// cluster's CPU).
  public static func decode(
    encoding raw: UInt8, payload: UnsafeRawBufferPointer, elements: Int, parameterCount: Int,
    declaredParameterCount: Int, backing: SharedBytes? = nil,
    regenerate: ((UInt64, Int) -> [Int]?)? = nil
  ) throws(ShareDecodingError) -> Share {
    guard let encoding = ShareEncoding(rawValue: raw) else { throw .unsupportedEncoding(raw) }
    guard declaredParameterCount == parameterCount else {
      throw .parameterCountMismatch(expected: parameterCount, got: declaredParameterCount)
    }
    guard elements >= 0 else { throw .lengthMismatch(encoding: encoding, bytes: payload.count, elements: elements) }
    switch encoding {
    case .dense:
      guard elements == parameterCount, payload.count == elements * 4 else {
        throw .lengthMismatch(encoding: encoding, bytes: payload.count, elements: elements)
      }
      if let backing, isLittleEndian, let start = payload.baseAddress, elements > 0,
        Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0,
        start >= backing.base, start + payload.count <= backing.base + backing.count
      {
        return Share(denseBorrowing: backing, offset: start - backing.base, count: elements, checked: false)
      }
      var values = [Float](unsafeUninitializedCapacity: elements) { buffer, count in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(from: payload)
        count = elements
      }
      if !isLittleEndian {
        for i in 0..<values.count { values[i] = Float(bitPattern: values[i].bitPattern.byteSwapped) }
      }
      if let bad = values.withUnsafeBufferPointer(firstNonFinite) { throw .nonFiniteValue(position: bad) }
      return Share(dense: values)
    case .indexed:
      guard elements <= parameterCount, payload.count == elements * 8 else {
        throw .lengthMismatch(encoding: encoding, bytes: payload.count, elements: elements)
      }
      var indices = [Int](repeating: 0, count: elements)
      var values = [Float](repeating: 0, count: elements)
      var previous = -1
      for k in 0..<elements {
        let index = Int(readU32(payload, 8 * k))
        guard index < parameterCount else { throw .indexOutOfRange(index: index, parameterCount: parameterCount) }
        guard index > previous else { throw .indicesNotIncreasing(position: k) }
        let value = Float(bitPattern: readU32(payload, 8 * k + 4))
        guard value.isFinite else { throw .nonFiniteValue(position: k) }
        indices[k] = index
        values[k] = value
        previous = index
      }
      return Share(indexed: indices, values: values, parameterCount: parameterCount)
    case .seeded:
      guard elements <= parameterCount, payload.count == 8 + elements * 4 else {
        throw .lengthMismatch(encoding: encoding, bytes: payload.count, elements: elements)
      }
      var seed: UInt64 = 0
      for k in 0..<8 { seed |= UInt64(payload[k]) << (8 * UInt64(k)) }
      var values = [Float](repeating: 0, count: elements)
      for k in 0..<elements {
        let value = Float(bitPattern: readU32(payload, 8 + 4 * k))
        guard value.isFinite else { throw .nonFiniteValue(position: k) }
        values[k] = value
      }
      guard let indices = regenerate?(seed, elements), indices.count == elements,
        indices.allSatisfy({ $0 >= 0 && $0 < parameterCount })
      else { throw .seedRegenerationFailed }
      return Share(seed: seed, indices: indices, values: values, parameterCount: parameterCount)
    }
  }

  private static let isLittleEndian = 1.littleEndian == 1

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

  private static func appendU32(_ out: inout [UInt8], _ v: UInt32) {
    out.append(UInt8(truncatingIfNeeded: v))
    out.append(UInt8(truncatingIfNeeded: v >> 8))
    out.append(UInt8(truncatingIfNeeded: v >> 16))
    out.append(UInt8(truncatingIfNeeded: v >> 24))
  }

  private static func readU32(_ p: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
    UInt32(p[offset]) | UInt32(p[offset + 1]) << 8 | UInt32(p[offset + 2]) << 16 | UInt32(p[offset + 3]) << 24
  }

  private static func swapFloats(_ bytes: inout [UInt8]) {
    var i = 0
    while i + 4 <= bytes.count {
      bytes.swapAt(i, i + 3)
      bytes.swapAt(i + 1, i + 2)
      i += 4
    }
  }
}
