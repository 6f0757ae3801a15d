import Foundation
import Numerics

/// MNIST-style IDX files (images: magic 0x00000803, labels: 0x00000801), gzip or not.
///
/// The decoded bytes are cached as a plain uncompressed IDX file in the cache directory (written
/// once, atomically) and memory-mapped read-only, so every process on a machine shares them.
enum IDX {
  struct Images {
    let file: MappedFile
    let count: Int
    let rows: Int
    let cols: Int
    /// Byte offset of pixel 0 of image 0.
    let offset: Int
  }

  /// Finds `base` or `base.gz` in `dir`.
  static func locate(_ base: String, in dir: String) throws -> String {
    for name in [base, base + ".gz"] {
      let p = (dir as NSString).appendingPathComponent(name)
      if FileManager.default.fileExists(atPath: p) { return p }
    }
    throw DatasetError.missing("IDX file \(base)[.gz]", path: dir)
  }

  /// The uncompressed file, mapped: the file itself when it is not compressed, else a cache.
  static func mapDecoded(_ path: String, cacheDirectory: String) throws -> MappedFile {
    try MappedFile(path: decodedPath(path, cacheDirectory: cacheDirectory))
  }

  /// The path of the uncompressed bytes: the file itself, or its decoded cache (built once).
  static func decodedPath(_ path: String, cacheDirectory: String) throws -> String {
    guard let head = FileHandle(forReadingAtPath: path) else { throw DatasetError.missing("file", path: path) }
    let magic = head.readData(ofLength: 2)
    try? head.close()
    if !Gzip.isGzip(magic) { return path }
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
    let mtime = Int((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
    let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    let cached = (cacheDirectory as NSString).appendingPathComponent("\(name)-\(size)-\(mtime).idx")
    if FileManager.default.fileExists(atPath: cached) { return cached }
    guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError.missing("file", path: path) }
    let decoded = try Gzip.decompress(data, path: path)
    try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
    guard publishCache(Data(decoded), at: cached) else {
      throw DatasetError("\(cacheDirectory): cannot write the decoded cache (set cache_dir or $PEERD_CACHE)")
    }
    return cached
  }

  /// `length` bytes at `base + i·stride` for each i of `indices`, read with pread into one array.
  static func readRecords(_ path: String, base: Int, stride: Int, length: Int, count: Int, indices: [Int]) throws
    -> [UInt8]
  {
    var out = [UInt8](repeating: 0, count: indices.count * length)
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw DatasetError("\(path): cannot open") }
    defer { close(fd) }
    try out.withUnsafeMutableBytes { raw in
      for (k, i) in indices.enumerated() {
        guard i >= 0 && i < count else { throw DatasetError("\(path): record \(i) out of range") }
        let n = pread(fd, raw.baseAddress! + k * length, length, off_t(base + i * stride))
        guard n == length else { throw DatasetError("\(path): short read at record \(i)") }
      }
    }
    return out
  }

  static func u32(_ b: UnsafeRawBufferPointer, _ o: Int) -> Int {
    Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
  }

  /// The header's size fields after the magic number, once the header is long enough and the
  /// magic number says it holds `kind`.
  static func header(
    _ b: UnsafeRawBufferPointer, _ path: String, magic: Int, fields: Int, kind: String
  ) throws -> [Int] {
    let length = 4 * (fields + 1)
    guard b.count >= length else { throw DatasetError("\(path): truncated IDX header (\(b.count) bytes)") }
    guard u32(b, 0) == magic else {
      throw DatasetError(
        "\(path): wrong magic number 0x\(String(u32(b, 0), radix: 16)); expected 0x\(String(magic, radix: 16)) (IDX \(kind))"
      )
    }
    return (1...fields).map { u32(b, 4 * $0) }
  }

  static func images(_ path: String, cacheDirectory: String) throws -> Images {
    let file = try mapDecoded(path, cacheDirectory: cacheDirectory)
    let b = file.bytes
    let fields = try header(b, path, magic: 0x803, fields: 3, kind: "images")
    let (count, rows, cols) = (fields[0], fields[1], fields[2])
    // Three u32 fields can multiply past Int.max; a header that does is as wrong as a short file.
    let (plane, planeOverflow) = rows.multipliedReportingOverflow(by: cols)
    let (pixels, overflow) = count.multipliedReportingOverflow(by: plane)
    guard rows > 0, cols > 0, count > 0, !planeOverflow, !overflow, pixels == b.count - 16 else {
      let size = planeOverflow || overflow ? "more than \(Int.max)" : "\(16 + pixels)"
      throw DatasetError(
        "\(path): header says \(count) images of \(rows)×\(cols) (\(size) bytes), file has \(b.count) bytes (truncated?)"
      )
    }
    return Images(file: file, count: count, rows: rows, cols: cols, offset: 16)
  }

  static func labels(_ path: String, cacheDirectory: String) throws -> [Int32] {
    let file = try mapDecoded(path, cacheDirectory: cacheDirectory)
    let b = file.bytes
    let count = try header(b, path, magic: 0x801, fields: 1, kind: "labels")[0]
    guard 8 + count == b.count else {
      throw DatasetError("\(path): header says \(count) labels, file holds \(b.count - 8) (truncated?)")
    }
    return (0..<count).map { Int32(b[8 + $0]) }
  }
}

enum MNISTReader {
  /// decentralizepy's MNIST normalisation.
  static let mean: [Float] = [0.1307]
  static let std: [Float] = [0.3081]

  /// The whole training and test sets, memory-mapped (the test set is used as is; the training
  /// set is cut into shards with `shard`).
  static func load(trainDir: String, testDir: String, cacheDirectory: String) throws -> (
    train: ByteImageSource, test: ByteImageSource
  ) {
    func pair(_ dir: String, _ prefix: String) throws -> ByteImageSource {
      let images = try IDX.images(IDX.locate("\(prefix)-images-idx3-ubyte", in: dir), cacheDirectory: cacheDirectory)
      let labelPath = try IDX.locate("\(prefix)-labels-idx1-ubyte", in: dir)
      let labels = try IDX.labels(labelPath, cacheDirectory: cacheDirectory)
      guard labels.count == images.count else {
        throw DatasetError("\(labelPath): \(labels.count) labels for \(images.count) images")
      }
      if let bad = labels.firstIndex(where: { $0 < 0 || $0 > 9 }) {
        throw DatasetError("\(labelPath): label \(labels[bad]) at index \(bad) is not a digit class 0…9")
      }
      return ByteImageSource(
        mapped: images.file, base: images.offset, recordStride: images.rows * images.cols, labels: labels,
        shape: [1, images.rows, images.cols], classCount: 10, mean: mean, std: std)
    }
    return (try pair(trainDir, "train"), try pair(testDir, "t10k"))
  }
}
