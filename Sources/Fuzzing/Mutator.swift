import Numerics

/// Structure-aware mutation: byte edits any fuzzer makes, plus edits that know the formats —
/// dictionary tokens, number runs replaced by numbers on the bounds, huge values written into
/// the count fields of binary headers, and splices of two inputs.
///
/// Deterministic for a seed, so a run is repeated exactly by its seed and iteration count.
public struct Mutator {
  public var rng: Xoshiro256
  /// Inputs never grow past this.
  public let maximumSize: Int

  public init(seed: UInt64, maximumSize: Int = 16 << 10) {
    rng = Xoshiro256(seed: seed)
    self.maximumSize = maximumSize
  }

  /// Numbers at and around the bounds decoders check, and past what fits their types.
  static let numbers: [String] = [
    "0", "1", "-1", "2", "255", "256", "65535", "65536", "2147483647", "2147483648", "4294967295", "4294967296",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999", "1000000000",
    "1e309", "-1e309", "1e-320", "nan", "inf", "-0", "0.5", "1.5", "0x10", "1_000",
  ]

  /// Integers for binary fields: zero, one, sign bits, all ones, and large counts.
  static let binaryValues: [UInt64] = [
    0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 32, 0x7FFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_FFFF_FFFF, 1_000_000_000, 1 << 20, 1 << 28,
  ]

  mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : rng.nextInt(below: n) }

  /// One mutant of `input`: one to four edits stacked, then the target's `finish` one time in
  /// four. `others` are inputs to splice with.
  public mutating func mutate(_ input: [UInt8], target: FuzzTarget, others: [[UInt8]]) -> [UInt8] {
    var bytes = input
    for _ in 0..<(1 + below(4)) { edit(&bytes, target: target, others: others) }
    if let finish = target.finish, below(4) == 0 { bytes = finish(bytes) }
    if bytes.count > maximumSize { bytes.removeLast(bytes.count - maximumSize) }
    return bytes
  }

  mutating func edit(_ b: inout [UInt8], target: FuzzTarget, others: [[UInt8]]) {
    switch below(12) {
    case 0 where !b.isEmpty:  // flip a bit
      b[below(b.count)] ^= UInt8(1 << below(8))
    case 1 where !b.isEmpty:  // an interesting or random byte
      let values: [UInt8] = [0, 0xFF, 0x7F, 0x80, 1, UInt8(truncatingIfNeeded: rng.next())]
      b[below(b.count)] = values[below(values.count)]
    case 2:  // insert random bytes
      let at = below(b.count + 1)
      b.insert(contentsOf: (0..<(1 + below(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
    case 3 where !b.isEmpty:  // delete a range
      let at = below(b.count)
      b.removeSubrange(at..<min(b.count, at + 1 + below(16)))
    case 4 where !b.isEmpty:  // duplicate a range (repeated records, lines, elements)
      let at = below(b.count)
      let range = Array(b[at..<min(b.count, at + 1 + below(64))])
      for _ in 0..<(1 + below(4)) where b.count + range.count <= maximumSize {
        b.insert(contentsOf: range, at: min(b.count, at + range.count))
      }
    case 5 where !b.isEmpty:  // truncate
      b.removeLast(b.count - below(b.count))
    case 6 where !target.dictionary.isEmpty:  // a format token
      b.insert(contentsOf: target.dictionary[below(target.dictionary.count)], at: below(b.count + 1))
    case 7:  // a number run replaced by a number on a bound
      replaceNumber(&b)
    case 8 where !target.countFields.isEmpty:  // a huge claim in a header's count field
      let f = target.countFields[below(target.countFields.count)]
      write(Self.binaryValues[below(Self.binaryValues.count)], &b, at: f.offset, width: f.width, bigEndian: f.bigEndian)
    case 9 where b.count >= 2:  // an integer anywhere
      let width = [1, 2, 4, 8][below(4)]
      write(
        Self.binaryValues[below(Self.binaryValues.count)], &b, at: below(b.count), width: width,
        bigEndian: below(2) == 0)
    case 10 where !others.isEmpty:  // splice: this input's head, another's tail
      let other = others[below(others.count)]
      b = Array(b.prefix(below(b.count + 1))) + other.suffix(below(other.count + 1))
    case 11:  // line endings and separators that formats disagree on
      let tokens: [[UInt8]] = [[0x0D, 0x0A], [0x0D], [0x0A], [0], [0x09], [0xEF, 0xBB, 0xBF], [0xFF, 0xFE]]
      b.insert(contentsOf: tokens[below(tokens.count)], at: below(b.count + 1))
    default:
      if !b.isEmpty { b[below(b.count)] = UInt8(truncatingIfNeeded: rng.next()) }
    }
  }

  /// Replaces one run of ASCII digits (with its sign) by a number from `numbers`.
  mutating func replaceNumber(_ b: inout [UInt8]) {
    let starts = b.indices.filter { i in
      (b[i] >= 0x30 && b[i] <= 0x39) && (i == 0 || !(b[i - 1] >= 0x30 && b[i - 1] <= 0x39))
    }
    let replacement = Array(Self.numbers[below(Self.numbers.count)].utf8)
    guard !starts.isEmpty else {
      b.insert(contentsOf: replacement, at: below(b.count + 1))
      return
    }
    let start = starts[below(starts.count)]
    var end = start
    while end < b.count && ((b[end] >= 0x30 && b[end] <= 0x39) || b[end] == 0x2E) { end += 1 }
    b.replaceSubrange(start..<end, with: replacement)
  }

  func write(_ value: UInt64, _ b: inout [UInt8], at offset: Int, width: Int, bigEndian: Bool) {
    guard offset >= 0, offset + width <= b.count else { return }
    for k in 0..<width {
      let shift = UInt64(8 * (bigEndian ? width - 1 - k : k))
      b[offset + k] = UInt8(truncatingIfNeeded: value >> shift)
    }
  }
}
