/// Sorted parameter indices as order-k Exp-Golomb codes of their gaps (docs/protocol.md §4.2).
///
/// Index i₀ is coded as the gap g₀ = i₀ and every later one as gₙ = iₙ − iₙ₋₁ − 1, so strictly
/// increasing indices give gaps ≥ 0. A gap g is written as m = g + 2ᵏ in binary, most significant
/// bit first, preceded by (bit-width of m) − k − 1 zero bits; k = 0 is Elias-gamma of g + 1. The
/// sender picks the k that makes the stream shortest and sends it, so a uniform selection of
/// density 0.1 costs about 5 bits an index, and a clustered one (top-k of a model whose border
/// pixels never change) no more than a few bits over log₂ of its gaps. decentralizepy sends
/// raw int32 indices (4 bytes each).
public enum IndexCoding {
  /// Largest order the wire allows: m = g + 2ᵏ stays within 34 bits for any u32 gap.
  public static let maximumOrder = 30

  /// The order giving the shortest stream, and that stream's length in bytes.
  public static func plan(_ indices: UnsafeBufferPointer<UInt32>) -> (order: Int, bytes: Int) {
    guard let last = indices.last else { return (0, 0) }
    let meanGap = (Int(last) + 1) / indices.count
    let guess = max(0, bitWidth(UInt64(meanGap)) - 1)
    let candidates = (max(0, guess - 2)...min(maximumOrder, guess + 1)).map { $0 }
    var totals = [Int](repeating: 0, count: candidates.count)
    var previous: Int64 = -1
    for index in indices {
      let gap = UInt64(Int64(index) - previous - 1)
      previous = Int64(index)
      for (c, k) in candidates.enumerated() { totals[c] += codeLength(gap, order: k) }
    }
    var best = 0
    for c in 1..<candidates.count where totals[c] < totals[best] { best = c }
    return (candidates[best], (totals[best] + 7) / 8)
  }

  @inline(__always) static func bitWidth(_ m: UInt64) -> Int { 64 - m.leadingZeroBitCount }

  @inline(__always) static func codeLength(_ gap: UInt64, order k: Int) -> Int {
    2 * bitWidth(gap + (1 << UInt64(k))) - k - 1
  }

  /// Writes the stream into `out`, which must be exactly `plan(indices).bytes` long for `order`.
  public static func encode(
    _ indices: UnsafeBufferPointer<UInt32>, order k: Int, into out: UnsafeMutableRawBufferPointer
  ) {
    var writer = BitWriter(out)
    var previous: Int64 = -1
    for index in indices {
      let m = UInt64(Int64(index) - previous - 1) + (1 << UInt64(k))
      previous = Int64(index)
      let width = bitWidth(m)
      writer.write(0, bits: width - k - 1)
      writer.write(m, bits: width)
    }
    writer.flush()
    precondition(writer.position == out.count, "index stream length differs from its plan")
  }

  /// Decodes exactly `count` indices, each below `parameterCount`, from all of `stream`.
  public static func decode(
    _ stream: UnsafeRawBufferPointer, order k: Int, count: Int, parameterCount: Int
  ) throws(IndexCodingError) -> [UInt32] {
    guard k >= 0 && k <= maximumOrder else { throw .badOrder(k) }
    guard count > 0 else {
      guard stream.isEmpty else { throw .trailingBits }
      return []
    }
    // A stream of L bytes holds at most 8L codes: never allocate for more than are present.
    guard count <= stream.count * 8 else { throw .truncated(decoded: 0) }
    var reader = BitReader(stream)
    var result = [UInt32](repeating: 0, count: count)
    var previous: Int64 = -1
    let limit = Int64(parameterCount)
    for n in 0..<count {
      guard let zeros = reader.zeroRun(atMost: 33 - k), let m = reader.read(zeros + k + 1) else {
        throw .truncated(decoded: n)
      }
      let index = previous + 1 + Int64(m - (1 << UInt64(k)))
      guard index < limit else { throw .indexOutOfRange(index: index, parameterCount: parameterCount) }
      result[n] = UInt32(index)
      previous = index
    }
    guard reader.atCleanEnd else { throw .trailingBits }
    return result
  }
}

/// Why an index stream was refused.
public enum IndexCodingError: Error, Sendable, Equatable {
  case badOrder(Int)
  /// The stream ended (or a code was longer than any u32 gap) after `decoded` indices.
  case truncated(decoded: Int)
  case indexOutOfRange(index: Int64, parameterCount: Int)
  /// Bytes or non-zero bits after the last code.
  case trailingBits
}

/// MSB-first bit packing into a byte buffer.
struct BitWriter {
  let out: UnsafeMutableRawBufferPointer
  private(set) var position = 0
  private var accumulator: UInt64 = 0
  private var pending = 0

  init(_ out: UnsafeMutableRawBufferPointer) { self.out = out }

  /// Appends the low `bits` bits of `value` (bits ≤ 56).
  @inline(__always) mutating func write(_ value: UInt64, bits: Int) {
    guard bits > 0 else { return }
    accumulator = (accumulator << UInt64(bits)) | value
    pending += bits
    while pending >= 8 {
      pending -= 8
      out[position] = UInt8(truncatingIfNeeded: accumulator >> UInt64(pending))
      position += 1
    }
  }

  /// Pads the last byte with zero bits.
  mutating func flush() {
    if pending > 0 { write(0, bits: 8 - pending) }
  }
}

/// MSB-first bit reading that never reads past its buffer.
struct BitReader {
  let bytes: UnsafeRawBufferPointer
  private var next = 0
  /// Unread bits, left-aligned.
  private var cache: UInt64 = 0
  private var available = 0

  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  @inline(__always) private mutating func refill() {
    while available <= 56 && next < bytes.count {
      cache |= UInt64(bytes[next]) << UInt64(56 - available)
      available += 8
      next += 1
    }
  }

  /// Reads `n` bits (n ≤ 56), or nil at the end of the buffer.
  @inline(__always) mutating func read(_ n: Int) -> UInt64? {
    refill()
    guard n <= available else { return nil }
    let value = cache >> UInt64(64 - n)
    cache = n == 64 ? 0 : cache << UInt64(n)
    available -= n
    return value
  }

  /// Counts and consumes zero bits up to the next one bit (which stays unread); nil when more
  /// than `limit` zeros come first or the buffer ends.
  @inline(__always) mutating func zeroRun(atMost limit: Int) -> Int? {
    var zeros = 0
    while true {
      refill()
      guard available > 0 else { return nil }
      let run = min(cache.leadingZeroBitCount, available)
      zeros += run
      guard zeros <= limit else { return nil }
      cache = run == 64 ? 0 : cache << UInt64(run)
      available -= run
      if available > 0 { return zeros }
    }
  }

  /// True when every byte was read and the unread bits of the last one are zero.
  var atCleanEnd: Bool { next == bytes.count && available < 8 && cache == 0 }
}
