import CZstd

/// zstd for `[SHARING] compress = True` (decentralizepy's key): the values section of a share
/// goes out as one zstd frame that records its content size.
///
/// Only the values section is compressed. Index streams are already entropy-coded and seeds
/// and copy tags are a few bytes, so compressing them gains nothing; keeping them apart keeps
/// the data/metadata byte split exact. docs/performance.md has what it gains on each method.
public final class ZstdCompressor {
  /// Level 1: on float32 model values higher levels gain under 1 % more and cost 2–4× the time.
  public static let defaultLevel: Int32 = 1
  private let context: OpaquePointer
  public let level: Int32

  public init(level: Int32 = ZstdCompressor.defaultLevel) {
    guard let context = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx failed (out of memory)") }
    self.context = context
    self.level = level
  }

  deinit { ZSTD_freeCCtx(context) }

  /// One frame holding the concatenation of `parts`, or nil if zstd reports an error.
  public func compress(_ parts: [UnsafeRawBufferPointer]) -> [UInt8]? {
    let total = parts.reduce(0) { $0 + $1.count }
    ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters)
    guard ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)) == 0,
      ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(context, UInt64(total))) == 0
    else { return nil }
    var out = [UInt8](repeating: 0, count: ZSTD_compressBound(total))
    var failed = false
    let written = out.withUnsafeMutableBytes { dst -> Int in
      var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
      for (n, part) in parts.enumerated() {
        let mode = n == parts.count - 1 ? ZSTD_e_end : ZSTD_e_continue
        var input = ZSTD_inBuffer(src: part.baseAddress, size: part.count, pos: 0)
        while true {
          let remaining = ZSTD_compressStream2(context, &output, &input, mode)
          if ZSTD_isError(remaining) != 0 {
            failed = true
            return 0
          }
          if mode == ZSTD_e_end ? remaining == 0 : input.pos == input.size { break }
        }
      }
      return output.pos
    }
    if failed { return nil }
    out.removeLast(out.count - written)
    return out
  }

  /// The `size` bytes held by `frame`, or nil unless `frame` is exactly one zstd frame whose
  /// recorded content size is `size` (checked before anything is allocated).
  public static func decompress(_ frame: UnsafeRawBufferPointer, exactSize size: Int) -> [UInt8]? {
    guard let base = frame.baseAddress, size > 0,
      ZSTD_getFrameContentSize(base, frame.count) == UInt64(size),
      ZSTD_findFrameCompressedSize(base, frame.count) == frame.count
    else { return nil }
    var out = [UInt8](repeating: 0, count: size)
    let produced = out.withUnsafeMutableBytes { ZSTD_decompress($0.baseAddress, size, base, frame.count) }
    guard ZSTD_isError(produced) == 0, produced == size else { return nil }
    return out
  }
}
