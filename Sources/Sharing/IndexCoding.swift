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
  ///
  /// The order comes from a histogram of the gaps' bit widths (one pass), which gives every
  /// order's length to within the carry of g + 2ᵏ; a second pass measures the chosen one exactly.
  public static func plan(_ indices: UnsafeBufferPointer<UInt32>) -> (order: Int, bytes: Int) {
    guard !indices.isEmpty else { return (0, 0) }
    var histogram = [Int](repeating: 0, count: 34)
    var previous: Int64 = -1
    for index in indices {
      histogram[bitWidth(UInt64(Int64(index) - previous - 1))] += 1
      previous = Int64(index)
    }
    var best = 0
    var bestBits = Int.max
    for k in 0...maximumOrder {
      var bits = 0
      for (width, count) in histogram.enumerated() where count > 0 {
        bits += count * (width <= k ? k + 1 : 2 * width - k - 1)
      }
      if bits < bestBits {
        best = k
        bestBits = bits
      }
    }
    var exact = 0
    previous = -1
    for index in indices {
      exact += codeLength(UInt64(Int64(index) - previous - 1), order: best)
      previous = Int64(index)
    }
    return (best, (exact + 7) / 8)
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
    var result = [UInt32](repeating: 0, count: count)
    let reader = try result.withUnsafeMutableBufferPointer { out throws(IndexCodingError) in
      try codes(BitReader(stream), count, order: k, limit: Int64(parameterCount), into: out.baseAddress!)
    }
    guard reader.atCleanEnd else { throw .trailingBits }
    return result
  }
}

extension IndexCoding {
  /// The decoding loop, apart so that the reader lives in registers.
  private static func codes(
    _ reader: BitReader, _ count: Int, order k: Int, limit: Int64, into out: UnsafeMutablePointer<UInt32>
  ) throws(IndexCodingError) -> BitReader {
    var reader = reader
    var previous: Int64 = -1
    let offset = Int64(1) << Int64(k)
    for n in 0..<count {
      guard let m = reader.code(order: k) else { throw .truncated(decoded: n) }
      let index = previous &+ 1 &+ (Int64(m) &- offset)
      guard index < limit else { throw .indexOutOfRange(index: index, parameterCount: Int(limit)) }
      out[n] = UInt32(truncatingIfNeeded: index)
      previous = index
    }
    return reader
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

  /// One order-k Exp-Golomb code m (≥ 2ᵏ), or nil when the buffer ends inside it or its zero
  /// run is longer than any u32 gap allows.
  @inline(__always) mutating func code(order k: Int) -> UInt64? {
    refill()
    // Fast path: the whole code (z zeros, then z + k + 1 bits) is in the cache.
    let z = cache.leadingZeroBitCount
    let length = 2 &* z &+ k &+ 1
    if z <= 33 &- k && length <= available {
      let m = (cache &<< UInt64(z)) &>> UInt64(64 &- (z &+ k &+ 1))
      cache = length == 64 ? 0 : cache &<< UInt64(length)
      available &-= length
      return m
    }
    guard let zeros = zeroRun(atMost: 33 - k) else { return nil }
    return read(zeros + k + 1)
  }

  /// True when every byte was read and the unread bits of the last one are zero.
  var atCleanEnd: Bool { next == bytes.count && available < 8 && cache == 0 }
}
