#if canImport(Glibc)
  import Glibc
#endif

/// Deliberately broken decoders that prove the harness catches each kind of bug. They are run
/// by name (`peerd-fuzz run --target self-test-greedy`), never by `--all`, and the fuzz tests
/// require each to be reported.
enum SelfTestTargets {
  /// Allocates the capacity its first four bytes claim (little-endian, up to 256 MiB), without
  /// touching it: the mistake of sizing an array by a header before checking the bytes present.
  static let greedy = FuzzTarget(
    name: "self-test-greedy", seeds: [[16, 0, 0, 0, 1, 2, 3, 4]], countFields: [.init(offset: 0, width: 4)],
    claims: [
      { n in
        [
          UInt8(truncatingIfNeeded: n), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n >> 16),
          UInt8(truncatingIfNeeded: n >> 24),
        ]
      }
    ],
    isSelfTest: true,
    decode: { bytes in
      guard bytes.count >= 4 else { return .rejected("short") }
      let claimed = min(1 << 28, (0..<4).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) })
      let buffer = [UInt8](unsafeUninitializedCapacity: claimed) { _, count in count = 0 }
      return buffer.capacity >= 0 ? .accepted : .rejected("impossible")
    })

  /// Traps on an input that starts with "TRAP".
  static let trap = FuzzTarget(
    name: "self-test-trap", seeds: [Array("TRAX".utf8), Array("TRAP".utf8)], isSelfTest: true,
    decode: { bytes in
      if bytes.starts(with: Array("TRAP".utf8)) { fatalError("self-test-trap: the trap the harness must report") }
      return .accepted
    })

  /// Never returns on an input that starts with "HANG".
  static let hang = FuzzTarget(
    name: "self-test-hang", seeds: [Array("HANX".utf8), Array("HANG".utf8)], isSelfTest: true,
    decode: { bytes in
      while bytes.starts(with: Array("HANG".utf8)) { usleep(10_000) }
      return .accepted
    })
}
