import Numerics

/// The checkpoint bytes of a strategy: magic `PSHS`, format version 1, the strategy's name
/// (u32 length + UTF-8), then its fields in the order it writes them, little-endian. Vectors are
/// a u32 count and that many float32 values, so a checkpoint of another model size, another
/// strategy or a truncated file is refused before anything is overwritten.
struct StateWriter {
  private(set) var bytes: [UInt8] = []
  static let magic: [UInt8] = Array("PSHS".utf8)
  static let version: UInt8 = 1

  init(strategy: String) {
    bytes = Self.magic + [Self.version]
    string(strategy)
  }

  mutating func u8(_ v: UInt8) { bytes.append(v) }
  mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
  mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
  mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

  mutating func string(_ s: String) {
    u32(UInt32(s.utf8.count))
    bytes.append(contentsOf: s.utf8)
  }

  mutating func vector(_ v: FloatBuffer) {
    u32(UInt32(v.count))
    bytes.append(contentsOf: UnsafeRawBufferPointer(v.storage))
  }
}

/// Reads what `StateWriter` wrote; every read is checked against the bytes left.
struct StateReader {
  private let bytes: [UInt8]
  private var offset = 0

  /// Checks the magic, version and strategy name.
  init(_ bytes: [UInt8], strategy: String) throws(SharingError) {
    self.bytes = bytes
    guard bytes.count >= 5, Array(bytes[0..<4]) == StateWriter.magic else { throw .checkpointCorrupt("no PSHS magic") }
    guard bytes[4] == StateWriter.version else { throw .checkpointCorrupt("format version \(bytes[4])") }
    offset = 5
    let found = try string()
    guard found == strategy else { throw .checkpointMismatch(expected: strategy, found: found) }
  }

  private mutating func take(_ n: Int, _ what: String) throws(SharingError) -> ArraySlice<UInt8> {
    guard n >= 0, n <= bytes.count - offset else { throw .checkpointCorrupt("ends inside \(what)") }
    defer { offset += n }
    return bytes[offset..<(offset + n)]
  }

  mutating func u8(_ what: String) throws(SharingError) -> UInt8 { try take(1, what).first! }

  mutating func bool(_ what: String) throws(SharingError) -> Bool {
    let v = try u8(what)
    guard v <= 1 else { throw .checkpointCorrupt("\(what) is \(v), not a flag") }
    return v == 1
  }

  mutating func u32(_ what: String) throws(SharingError) -> UInt32 {
    try take(4, what).reversed().reduce(0) { $0 << 8 | UInt32($1) }
  }

  mutating func u64(_ what: String) throws(SharingError) -> UInt64 {
    try take(8, what).reversed().reduce(0) { $0 << 8 | UInt64($1) }
  }

  mutating func string() throws(SharingError) -> String {
    let n = Int(try u32("a name"))
    return String(decoding: try take(n, "a name"), as: UTF8.self)
  }

  /// A vector of exactly `count` floats, copied into `target` only once it is known whole.
  mutating func vector(into target: FloatBuffer, _ what: String) throws(SharingError) {
    let n = Int(try u32(what))
    guard n == target.count else { throw .checkpointCorrupt("\(what) has \(n) values, the model \(target.count)") }
    let slice = try take(4 * n, what)
    slice.withUnsafeBytes { UnsafeMutableRawBufferPointer(target.storage).copyMemory(from: $0) }
  }

  /// A vector of exactly `count` floats as a new buffer.
  mutating func vector(count: Int, _ what: String) throws(SharingError) -> FloatBuffer {
    let buffer = FloatBuffer(count: count)
    try vector(into: buffer, what)
    return buffer
  }

  func finish() throws(SharingError) {
    guard offset == bytes.count else { throw .checkpointCorrupt("\(bytes.count - offset) bytes after the state") }
  }
}
