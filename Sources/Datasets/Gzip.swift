import CZlib
import Foundation

/// gzip decompression through zlib (never a shell-out).
enum Gzip {
  static func isGzip(_ data: Data) -> Bool {
    data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
  }

  /// Inflates a gzip file (one member, or several concatenated as gzip(1) allows). A truncated
  /// or corrupt stream is an error naming `path` in words, never a zlib status number.
  ///
  /// `declaredSize` receives the bytes decoded so far and returns the exact size the content
  /// declares once it can tell (an IDX file's header does in its first bytes), or nil.
  /// Decoding stops with an error as soon as the output passes that size, or `maximumSize`
  /// while none is known, so a small file that inflates to gigabytes is rejected after one chunk
  /// past its declared size rather than held in memory.
  ///
  /// The output is reserved once: when the size is known, or when the first 64 KiB arrive
  /// without one; at most deflate's 1,032:1 expansion of the input. It never doubles past that
  /// (found by libFuzzer: doubling made a 4 MB array of a 2.5 KB file's 2.1 MB output).
  static func decompress(
    _ data: Data, path: String, declaredSize: (_ decoded: [UInt8]) -> Int? = { _ in nil }, maximumSize: Int = .max
  ) throws -> [UInt8] {
    var stream = z_stream()
    guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw DatasetError("\(path): zlib could not start (out of memory?)")
    }
    defer { inflateEnd(&stream) }
    var out = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    let ceiling = data.count.multipliedReportingOverflow(by: 1032).partialValue + chunk.count
    var declared: Int?
    var reserved = false
    try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
      stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
      stream.avail_in = uInt(input.count)
      while true {
        var status: Int32 = Z_OK
        let produced: Int = chunk.withUnsafeMutableBufferPointer { buf in
          stream.next_out = buf.baseAddress
          stream.avail_out = uInt(buf.count)
          status = inflate(&stream, Z_NO_FLUSH)
          return buf.count - Int(stream.avail_out)
        }
        out.append(contentsOf: chunk[0..<produced])
        if declared == nil { declared = declaredSize(out) }
        if !reserved && (declared != nil || out.count >= chunk.count) {
          out.reserveCapacity(min(declared ?? maximumSize, ceiling) + chunk.count)
          reserved = true
        }
        if let declared, out.count > declared {
          throw DatasetError(
            "\(path): decompresses to more than the \(declared) bytes its header declares", kind: .tooLarge)
        }
        if out.count > maximumSize {
          throw DatasetError("\(path): decompresses to more than \(maximumSize) bytes", kind: .tooLarge)
        }
        switch status {
        case Z_STREAM_END:
          // Another member follows only if its magic does; anything else is trailing padding.
          let rest = Int(stream.avail_in)
          guard rest >= 2, let next = stream.next_in, next[0] == 0x1F, next[1] == 0x8B else { return }
          guard inflateReset(&stream) == Z_OK else { throw DatasetError("\(path): zlib could not restart") }
        case Z_OK:
          continue
        case Z_BUF_ERROR:
          // No progress possible with output space free: the input ran out mid-stream.
          throw DatasetError("\(path): truncated gzip stream (the file ends early)", kind: .truncated)
        case Z_NEED_DICT:
          throw DatasetError("\(path): corrupt gzip data (asks for a preset dictionary)", kind: .corruptCompression)
        case Z_MEM_ERROR:
          throw DatasetError("\(path): out of memory while decompressing")
        default:
          let reason = stream.msg.map { String(cString: $0) } ?? "invalid deflate data"
          throw DatasetError("\(path): corrupt gzip data (\(reason))", kind: .corruptCompression)
        }
      }
    }
    return out
  }

  /// A one-member gzip file of `bytes` (test fixtures and fuzz seeds; peerd only reads gzip).
  static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
    var stream = z_stream()
    guard
      deflateInit2_(
        &stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
        Int32(MemoryLayout<z_stream>.size)) == Z_OK
    else { return [] }
    defer { deflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
    var input = bytes
    let written: Int = input.withUnsafeMutableBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        stream.next_in = src.baseAddress
        stream.avail_in = uInt(src.count)
        stream.next_out = dst.baseAddress
        stream.avail_out = uInt(dst.count)
        _ = deflate(&stream, Z_FINISH)
        return dst.count - Int(stream.avail_out)
      }
    }
    return Array(out[0..<written])
  }
}
