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
  /// their capacity is reused, their contents replaced. Inlined so that `value` (the delta
  /// x − x̂ of CHOCO, read twice per value) is not a closure call per element.
  @inline(__always)
  static func quantize(
    count: Int, bits: Int, blockSize: Int, scales: inout [Float], codes: inout [UInt8], value: (Int) -> Float
  ) -> QuantizedValues {
    let blocks = blockCount(count: count, blockSize: blockSize)
    scales.removeAll(keepingCapacity: true)
    scales.append(contentsOf: repeatElement(0, count: blocks))
    codes.removeAll(keepingCapacity: true)
    codes.append(contentsOf: repeatElement(0, count: codeBytes(count: count, bits: bits)))
    let levels = levels(bits: bits)
    scales.withUnsafeMutableBufferPointer { scaleOut in
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
          scaleOut[block] = scale
          let inverse = scale > 0 ? levels / magnitude : 0
          switch bits {
          case 8:
            for k in start..<end { out[k] = UInt8(bitPattern: Int8(nearest(value(k) * inverse, 127))) }
          case 4:
            // Code zero is nibble 8; a zero scale leaves every code at zero.
            for k in start..<end {
              out[k >> 1] |= UInt8(Int(nearest(value(k) * inverse, 7)) + 8) << UInt8((k & 1) << 2)
            }
          default:
            // "+" for v ≥ 0 (and for a zero scale, where both signs are 0); branch-free, as the
            // sign of a delta is a coin flip for the branch predictor.
            let zero: UInt8 = scale == 0 ? 1 : 0
            for k in start..<end {
              let plus = (value(k) >= 0 ? 1 : 0) | zero
              out[k >> 3] |= plus << UInt8(k & 7)
            }
          }
        }
      }
    }
    return QuantizedValues(bits: bits, blockSize: blockSize, count: count, scales: scales, codes: codes)
  }

  /// v rounded half to even and clamped to ±limit. Adding and removing 1.5·2²³ rounds any
  /// |v| < 2²² in IEEE arithmetic, without the libm call `rounded()` is on baseline x86-64.
  @inline(__always) static func nearest(_ v: Float, _ limit: Float) -> Float {
    let clamped = max(-limit, min(limit, v))
    return (clamped + 12_582_912) - 12_582_912
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
    if let indices {
      indices.withUnsafeBufferPointer { idx in add(to: target) { idx[$0] } }
    } else {
      add(to: target) { UInt32(truncatingIfNeeded: $0) }
    }
  }

  @inline(__always)
  private func add(to target: UnsafeMutablePointer<Float>, at position: (Int) -> UInt32) {
    scales.withUnsafeBufferPointer { scales in
      codes.withUnsafeBufferPointer { codes in
        for block in 0..<scales.count {
          let start = block * blockSize
          let end = min(count, start + blockSize)
          let scale = scales[block]
          switch bits {
          case 8:
            for k in start..<end { target[Int(position(k))] += Float(Int8(bitPattern: codes[k])) * scale }
          case 4:
            for k in start..<end {
              let nibble = (codes[k >> 1] >> UInt8((k & 1) << 2)) & 0xF
              target[Int(position(k))] += Float(Int(nibble) - 8) * scale
            }
          default:
            // value = ±scale = (2·bit − 1)·scale, without a branch.
            for k in start..<end {
              let bit = Float((codes[k >> 3] >> UInt8(k & 7)) & 1)
              target[Int(position(k))] += (2 * bit - 1) * scale
            }
          }
        }
      }
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
