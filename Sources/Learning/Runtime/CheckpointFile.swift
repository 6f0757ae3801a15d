import Foundation

/// The container a checkpoint is written in: named binary sections, length-checked, with a
/// checksum over everything, so a torn or corrupted file is refused with a clear error instead of
/// resuming from garbage.
///
/// Layout (little-endian): magic `PEERDCKP`, u32 version (1), u32 section count; per section a
/// u16 name length, the UTF-8 name, a u64 payload length and the payload; then a u64 FNV-1a
/// checksum of every byte before it.
public struct CheckpointFile: Sendable, Equatable {
  public static let magic = Array("PEERDCKP".utf8)
  public static let version: UInt32 = 1

  public private(set) var sections: [String: [UInt8]] = [:]

  public init() {}

  public subscript(name: String) -> [UInt8]? {
    get { sections[name] }
    set { sections[name] = newValue }
  }

  public func encoded() -> [UInt8] {
    var out = Self.magic
    Self.append(&out, UInt64(Self.version), bytes: 4)
    Self.append(&out, UInt64(sections.count), bytes: 4)
    for name in sections.keys.sorted() {
      let n = Array(name.utf8)
      Self.append(&out, UInt64(n.count), bytes: 2)
      out += n
      Self.append(&out, UInt64(sections[name]!.count), bytes: 8)
      out += sections[name]!
    }
    Self.append(&out, Self.checksum(out[...]), bytes: 8)
    return out
  }

  public static func decode(_ bytes: [UInt8], path: String) throws(CheckpointError) -> CheckpointFile {
    var reader = Reader(bytes: bytes, path: path)
    guard bytes.count >= magic.count + 16, Array(bytes.prefix(magic.count)) == magic else {
      throw .notACheckpoint(path)
    }
    let body = bytes.count - 8
    guard checksum(bytes[..<body]) == read(bytes, body, 8) else { throw .corrupt(path, "checksum mismatch") }
    reader.offset = magic.count
    let version = try reader.int(4)
    guard version == Int(Self.version) else { throw .unsupportedVersion(path, version) }
    let count = try reader.int(4)
    var file = CheckpointFile()
    for _ in 0..<count {
      let nameLength = try reader.int(2)
      let name = String(decoding: try reader.take(nameLength), as: UTF8.self)
      let length = try reader.int(8)
      file.sections[name] = Array(try reader.take(length))
    }
    guard reader.offset == body else { throw .corrupt(path, "\(body - reader.offset) stray bytes after the sections") }
    return file
  }

  struct Reader {
    let bytes: [UInt8]
    let path: String
    var offset = 0
    mutating func take(_ n: Int) throws(CheckpointError) -> ArraySlice<UInt8> {
      guard n >= 0, n <= bytes.count - 8 - offset else { throw .corrupt(path, "a section runs past the end") }
      defer { offset += n }
      return bytes[offset..<(offset + n)]
    }
    mutating func int(_ n: Int) throws(CheckpointError) -> Int {
      let v = CheckpointFile.read(bytes, offset, n)
      _ = try take(n)
      guard v <= UInt64(Int.max) else { throw .corrupt(path, "a length out of range") }
      return Int(v)
    }
  }

  static func read(_ bytes: [UInt8], _ offset: Int, _ n: Int) -> UInt64 {
    guard offset >= 0, offset + n <= bytes.count else { return .max }
    var v: UInt64 = 0
    for k in 0..<n { v |= UInt64(bytes[offset + k]) << (8 * UInt64(k)) }
    return v
  }

  static func append(_ out: inout [UInt8], _ v: UInt64, bytes n: Int) {
    for k in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
  }

  static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes {
      h ^= UInt64(b)
      h = h &* 0x0000_0100_0000_01B3
    }
    return h
  }
}

/// Why a checkpoint cannot be used.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
  case missing(String)
  case notACheckpoint(String)
  case unsupportedVersion(String, Int)
  case corrupt(String, String)
  /// It was written by another node, model, algorithm or sharing method than this run's.
  case mismatch(String, String)

  public var description: String {
    switch self {
    case .missing(let p):
      return "\(p): no checkpoint to resume from (is checkpoint_every set, and the log dir the same?)"
    case .notACheckpoint(let p): return "\(p): not a peerd checkpoint"
    case .unsupportedVersion(let p, let v):
      return "\(p): checkpoint version \(v) is not supported (this build writes \(CheckpointFile.version))"
    case .corrupt(let p, let why): return "\(p): corrupt checkpoint: \(why)"
    case .mismatch(let p, let why): return "\(p): checkpoint does not fit this run: \(why)"
    }
  }
}
