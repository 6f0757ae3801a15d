import CZlib
import Foundation

/// gzip decompression through zlib (never a shell-out).
enum Gzip {
  static func isGzip(_ data: Data) -> Bool {
    data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
  }

  /// Inflates a whole gzip member; a truncated or corrupt stream is an error naming `path`.
  static func decompress(_ data: Data, path: String) throws -> [UInt8] {
    var stream = z_stream()
    guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw DatasetError("\(path): zlib could not start")
    }
    defer { inflateEnd(&stream) }
    var out = [UInt8]()
    out.reserveCapacity(data.count * 4)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    var status: Int32 = Z_OK
    try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
      stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
      stream.avail_in = uInt(input.count)
      repeat {
        let produced: Int = chunk.withUnsafeMutableBufferPointer { buf in
          stream.next_out = buf.baseAddress
          stream.avail_out = uInt(buf.count)
          status = inflate(&stream, Z_NO_FLUSH)
          return buf.count - Int(stream.avail_out)
        }
        if status != Z_OK && status != Z_STREAM_END {
          throw DatasetError("\(path): corrupt gzip data (zlib status \(status))")
        }
        out.append(contentsOf: chunk[0..<produced])
        if status == Z_OK && produced == 0 && stream.avail_in == 0 {
          throw DatasetError("\(path): truncated gzip file")
        }
      } while status != Z_STREAM_END
    }
    return out
  }
}
