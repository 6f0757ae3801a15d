/// Block-quantized values: one float32 scale per `blockSize` consecutive values, and a code of
/// `bits` bits per value (docs/protocol.md §4.4).
///
/// - 8 bits: signed code c in −127…127 (a byte, two's complement); value = c · scale, with
///   scale = max|v| / 127 over the block.
/// - 4 bits: c in −7…7 stored as the nibble c + 8 (low nibble first); scale = max|v| / 7.
/// - 1 bit: the sign (1 = +, LSB first); value = ±scale, with scale = mean|v| over the block,
///   the scale that minimises the squared error of a sign code.
///
/// Rounding is to nearest and deterministic, so no random stream is involved. The receiver and
/// the sender dequantize with the same single multiplication (`add(to:indices:)`), which is what
/// keeps every CHOCO public copy bit-identical on both sides.
public struct QuantizedValues: Sendable, Equatable {
  public let bits: Int
  public let blockSize: Int
  /// Number of values represented.
  public let count: Int
  public internal(set) var scales: [Float]
  public internal(set) var codes: [UInt8]

  /// The quantization widths the wire knows.
  public static let supportedBits = [1, 4, 8]
  /// Largest block the wire accepts (`[SHARING] block_size` has the same bound).
  public static let maximumBlockSize = 1 << 24

  public static func blockCount(count: Int, blockSize: Int) -> Int { count == 0 ? 0 : (count - 1) / blockSize + 1 }
  public static func codeBytes(count: Int, bits: Int) -> Int { (count * bits + 7) / 8 }

  /// Largest code magnitude: the scale is max|v| divided by it.
  static func levels(bits: Int) -> Float { bits == 1 ? 1 : Float((1 << (bits - 1)) - 1) }

  init(bits: Int, blockSize: Int, count: Int, scales: [Float], codes: [UInt8]) {
    precondition(Self.supportedBits.contains(bits) && blockSize > 0, "bad quantization parameters")
    precondition(scales.count == Self.blockCount(count: count, blockSize: blockSize), "one scale per block")
    precondition(codes.count == Self.codeBytes(count: count, bits: bits), "codes do not match the count")
    self.bits = bits
    self.blockSize = blockSize
    self.count = count
    self.scales = scales
    self.codes = codes
  }

  /// Quantizes `count` values, `value(k)` being the k-th. `scales` and `codes` are workspaces:
  /// their capacity is reused, their contents replaced.
  static func quantize(
    count: Int, bits: Int, blockSize: Int, scales: inout [Float], codes: inout [UInt8], value: (Int) -> Float
  ) -> QuantizedValues {
    let blocks = blockCount(count: count, blockSize: blockSize)
    scales.removeAll(keepingCapacity: true)
    scales.reserveCapacity(blocks)
    codes.removeAll(keepingCapacity: true)
    codes.append(contentsOf: repeatElement(0, count: codeBytes(count: count, bits: bits)))
    let levels = levels(bits: bits)
    codes.withUnsafeMutableBufferPointer { out in
      for block in 0..<blocks {
        let start = block * blockSize
        let end = min(count, start + blockSize)
        var magnitude: Float = 0
        if bits == 1 {
          for k in start..<end { magnitude += abs(value(k)) }
          magnitude /= Float(end - start)
        } else {
          for k in start..<end { magnitude = max(magnitude, abs(value(k))) }
        }
        let scale = magnitude.isFinite ? magnitude / levels : 0
        scales.append(scale)
        guard scale > 0 else {
          // Code zero: nibble 8 at 4 bits, "+" at 1 bit (+0), the zero byte at 8 bits.
          if bits == 4 { for k in start..<end { out[k >> 1] |= 8 << UInt8((k & 1) << 2) } }
          if bits == 1 { for k in start..<end { out[k >> 3] |= 1 << UInt8(k & 7) } }
          continue
        }
        let inverse = levels / magnitude
        switch bits {
        case 8:
          for k in start..<end {
            let c = max(-127, min(127, (value(k) * inverse).rounded()))
            out[k] = UInt8(bitPattern: Int8(c))
          }
        case 4:
          for k in start..<end {
            let c = max(-7, min(7, (value(k) * inverse).rounded()))
            out[k >> 1] |= UInt8(Int(c) + 8) << UInt8((k & 1) << 2)
          }
        default:
          for k in start..<end where value(k) >= 0 { out[k >> 3] |= 1 << UInt8(k & 7) }
        }
      }
    }
    return QuantizedValues(bits: bits, blockSize: blockSize, count: count, scales: scales, codes: codes)
  }

  /// The k-th value.
  public func value(at k: Int) -> Float {
    let scale = scales[k / blockSize]
    switch bits {
    case 8: return Float(Int8(bitPattern: codes[k])) * scale
    case 4: return Float(Int((codes[k >> 1] >> UInt8((k & 1) << 2)) & 0xF) - 8) * scale
    default: return (codes[k >> 3] >> UInt8(k & 7)) & 1 == 1 ? scale : -scale
    }
  }

  public func dequantized() -> [Float] { (0..<count).map(value(at:)) }

  /// target[k] += value k (or target[indices[k]] += value k): the CHOCO public-copy update,
  /// the same arithmetic on the sender and on every receiver.
  public func add(to target: UnsafeMutablePointer<Float>, indices: [UInt32]? = nil) {
    scales.withUnsafeBufferPointer { scales in
      codes.withUnsafeBufferPointer { codes in
        let blocks = scales.count
        for block in 0..<blocks {
          let start = block * blockSize
          let end = min(count, start + blockSize)
          let scale = scales[block]
          if let indices {
            indices.withUnsafeBufferPointer { idx in
              for k in start..<end { target[Int(idx[k])] += Self.code(codes, k, bits) * scale }
            }
          } else {
            for k in start..<end { target[k] += Self.code(codes, k, bits) * scale }
          }
        }
      }
    }
  }

  @inline(__always)
  static func code(_ codes: UnsafeBufferPointer<UInt8>, _ k: Int, _ bits: Int) -> Float {
    switch bits {
    case 8: return Float(Int8(bitPattern: codes[k]))
    case 4: return Float(Int((codes[k >> 1] >> UInt8((k & 1) << 2)) & 0xF) - 8)
    default: return (codes[k >> 3] >> UInt8(k & 7)) & 1 == 1 ? 1 : -1
    }
  }

  /// Checks what a decoder cannot take on trust: finite, non-negative scales whose largest code
  /// stays finite, and zero padding bits after the last code. Returns the failing block or byte.
  func validate() -> QuantizationFault? {
    let largest: Float = bits == 1 ? 1 : Float(1 << (bits - 1))
    for (block, scale) in scales.enumerated() where !(scale >= 0 && (scale * largest).isFinite) {
      return .badScale(block: block)
    }
    let usedBits = count * bits
    if usedBits % 8 != 0, let last = codes.last, last >> UInt8(usedBits % 8) != 0 {
      return .nonZeroPadding
    }
    return nil
  }
}

/// Why quantized values were refused.
public enum QuantizationFault: Error, Sendable, Equatable {
  case badScale(block: Int)
  case nonZeroPadding
}
