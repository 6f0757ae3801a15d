/// Immutable bytes that several owners read without copying: an encoded model frame queued to
/// every neighbour, or a received frame and the share decoded from it.
///
/// A model message is 4 bytes per parameter, 0.9 MB for MovieLens. Each copy of it costs about
/// as much as the kernel's own copy through loopback, so a round that copied every frame into an
/// array and then into a share spent as long copying as moving. The bytes live in memory this
/// class allocated, or in memory someone else owns (a ZeroMQ message), released exactly once
/// when the last reference goes.
///
/// Immutable after initialisation, so safe to hand between threads: ZeroMQ's I/O thread drops
/// its reference when a send completes.
public final class SharedBytes: @unchecked Sendable {
  public let base: UnsafeRawPointer
  public let count: Int
  private let release: @Sendable () -> Void

  /// Allocates `count` bytes and lets `fill` write all of them (there is no zero-fill first).
  public init(count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void) {
    precondition(count >= 0, "SharedBytes count must be non-negative")
    let memory = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
    fill(UnsafeMutableRawBufferPointer(start: memory, count: count))
    base = UnsafeRawPointer(memory)
    self.count = count
    let address = UInt(bitPattern: memory)
    release = { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
  }

  /// A copy of `bytes` (control frames, tests).
  public convenience init(_ bytes: [UInt8]) {
    self.init(count: bytes.count) { target in
      bytes.withUnsafeBytes {
        if let source = $0.baseAddress { target.baseAddress!.copyMemory(from: source, byteCount: $0.count) }
      }
    }
  }

  /// Wraps `count` bytes at `base` that stay valid until `release` runs, once, on whichever
  /// thread drops the last reference.
  public init(borrowing base: UnsafeRawPointer, count: Int, release: @escaping @Sendable () -> Void) {
    self.base = base
    self.count = count
    self.release = release
  }

  deinit { release() }

  public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  /// A copy as an array.
  public var array: [UInt8] { [UInt8](bytes) }
}
