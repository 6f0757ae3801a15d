#if _endian(big)
  #error(
    "peerd's wire and checkpoint codecs copy float32 values as they are in memory: a little-endian host is required")
#endif

/// Little-endian writes at an advancing offset into a buffer the caller sized exactly.
struct ByteWriter {
  let out: UnsafeMutableRawBufferPointer
  private(set) var offset = 0

  init(_ out: UnsafeMutableRawBufferPointer) { self.out = out }

  mutating func u8(_ v: UInt8) {
    out[offset] = v
    offset += 1
  }

  mutating func u32(_ v: UInt32) {
    out.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt32.self)
    offset += 4
  }

  mutating func u64(_ v: UInt64) {
    out.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt64.self)
    offset += 8
  }

  mutating func bytes(_ source: UnsafeRawBufferPointer) {
    guard source.count > 0 else { return }
    (out.baseAddress! + offset).copyMemory(from: source.baseAddress!, byteCount: source.count)
    offset += source.count
  }

  /// The next `count` bytes, for a writer that fills them itself.
  mutating func reserve(_ count: Int) -> UnsafeMutableRawBufferPointer {
    let region = UnsafeMutableRawBufferPointer(rebasing: out[offset..<(offset + count)])
    offset += count
    return region
  }
}

/// Little-endian reads that check every length against the bytes present before reading.
struct ByteReader {
  let bytes: UnsafeRawBufferPointer
  private(set) var offset = 0

  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  var remaining: Int { bytes.count - offset }

  /// The next `count` bytes, or nil when fewer are left (or `count` is negative).
  mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
    guard count >= 0, count <= remaining else { return nil }
    let region = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    offset += count
    return region
  }

  mutating func u8() -> UInt8? { take(1).map { $0[0] } }
  mutating func u32() -> UInt32? { take(4).map { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) } }
  mutating func u64() -> UInt64? { take(8).map { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) } }
}
