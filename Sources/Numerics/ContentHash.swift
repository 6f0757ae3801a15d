/// XXH64 (xxHash's 64-bit hash, Yann Collet's public specification), written out here.
///
/// The decoded-data caches are named by the hash of the source file's bytes, so a cache is
/// found only for a file with the same content: a corrupt file of the same name, size and
/// modification time misses the cache and is decoded (and rejected) itself. XXH64 reads about
/// 8 bytes per cycle, so hashing MNIST's 9.9 MB training images takes a few milliseconds per
/// process. It is not a cryptographic hash: it guards against damage, not against someone who
/// can already write the data files.
public enum ContentHash {
  static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
  static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
  static let p3: UInt64 = 0x1656_67B1_9E37_79F9
  static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
  static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

  @inline(__always) static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

  @inline(__always) static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
    rotl(acc &+ input &* p2, 31) &* p1
  }

  @inline(__always) static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
    (acc ^ round(0, value)) &* p1 &+ p4
  }

  /// The XXH64 hash of `bytes` with `seed`.
  public static func xxh64(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
    let n = bytes.count
    guard let base = bytes.baseAddress else { return avalanche(seed &+ p5) }
    @inline(__always) func u64(_ i: Int) -> UInt64 {
      UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
    }
    @inline(__always) func u32(_ i: Int) -> UInt64 {
      UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
    }
    var i = 0
    var h: UInt64
    if n >= 32 {
      var v1 = seed &+ p1 &+ p2
      var v2 = seed &+ p2
      var v3 = seed
      var v4 = seed &- p1
      while i + 32 <= n {
        v1 = round(v1, u64(i))
        v2 = round(v2, u64(i + 8))
        v3 = round(v3, u64(i + 16))
        v4 = round(v4, u64(i + 24))
        i += 32
      }
      h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
      h = merge(merge(merge(merge(h, v1), v2), v3), v4)
    } else {
      h = seed &+ p5
    }
    h &+= UInt64(n)
    while i + 8 <= n {
      h = rotl(h ^ round(0, u64(i)), 27) &* p1 &+ p4
      i += 8
    }
    if i + 4 <= n {
      h = rotl(h ^ (u32(i) &* p1), 23) &* p2 &+ p3
      i += 4
    }
    while i < n {
      h = rotl(h ^ (UInt64(bytes[i]) &* p5), 11) &* p1
      i += 1
    }
    return avalanche(h)
  }

  @inline(__always) static func avalanche(_ value: UInt64) -> UInt64 {
    var h = value
    h ^= h >> 33
    h &*= p2
    h ^= h >> 29
    h &*= p3
    h ^= h >> 32
    return h
  }

  /// The hash as 16 lower-case hex digits, for file names.
  public static func hex(_ hash: UInt64) -> String {
    let digits = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}
