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
  ///
  /// The cache is named by the XXH64 hash of the compressed file's bytes (`ContentHash`), so
  /// it belongs to that exact content: a damaged file with the same name, size and
  /// modification time as one decoded before misses the cache and fails its own checks.
  static func decodedPath(_ path: String, cacheDirectory: String) throws -> String {
    guard let head = FileHandle(forReadingAtPath: path) else { throw DatasetError.missing("file", path: path) }
    let magic = head.readData(ofLength: 2)
    try? head.close()
    if !Gzip.isGzip(magic) { return path }
    guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError.missing("file", path: path) }
    let hash = data.withUnsafeBytes { ContentHash.xxh64($0) }
    let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    let cached = (cacheDirectory as NSString).appendingPathComponent("\(name)-xxh64-\(ContentHash.hex(hash)).idx")
    if FileManager.default.fileExists(atPath: cached) { return cached }
    let decoded = try decompress(data, path: path)
    do {
      try FileSystem.createDirectory(
        cacheDirectory, for: "create the dataset cache folder (set cache_dir or $PEERD_CACHE)")
    } catch { throw DatasetError("\(error)", kind: .cache) }
    guard publishCache(Data(decoded), at: cached) else {
      throw DatasetError(
        "\(cacheDirectory): cannot write the decoded cache (set cache_dir or $PEERD_CACHE)", kind: .cache)
    }
    return cached
  }

  /// The most bytes an IDX file may declare: 2 GiB, 40 times MNIST's training images.
  static let maximumSize = 1 << 31

  /// Decompresses a gzip IDX file, stopping as soon as the output passes the size its header
  /// declares (or `maximumSize` while the header is incomplete or unusable).
  static func decompress(_ data: Data, path: String) throws -> [UInt8] {
    try Gzip.decompress(
      data, path: path, declaredSize: { decoded in decoded.withUnsafeBytes { declaredSize($0) } },
      maximumSize: maximumSize)
  }

  /// The exact file size an IDX header declares (4 magic bytes `0 0 type dims`, `dims`
  /// big-endian u32 sizes, then the data), or nil while `b` is shorter than the header, the
  /// element type is not unsigned bytes, or the size passes `maximumSize`.
  static func declaredSize(_ b: UnsafeRawBufferPointer) -> Int? {
    guard b.count >= 4, b[0] == 0, b[1] == 0, b[2] == 0x08 else { return nil }
    let dims = Int(b[3])
    let header = 4 + 4 * dims
    guard b.count >= header else { return nil }
    var size = 1
    for d in 0..<dims {
      let (product, overflow) = size.multipliedReportingOverflow(by: u32(b, 4 + 4 * d))
      guard !overflow, product <= maximumSize else { return nil }
      size = product
    }
    return header + size <= maximumSize ? header + size : nil
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
    guard b.count >= length else {
      throw DatasetError("\(path): truncated IDX header (\(b.count) bytes)", kind: .truncated)
    }
    guard u32(b, 0) == magic else {
      throw DatasetError(
        "\(path): wrong magic number 0x\(String(u32(b, 0), radix: 16)); expected 0x\(String(magic, radix: 16)) (IDX \(kind))"
      )
    }
    return (1...fields).map { u32(b, 4 * $0) }
  }

  static func images(_ path: String, cacheDirectory: String) throws -> Images {
    let file = try mapDecoded(path, cacheDirectory: cacheDirectory)
    let (count, rows, cols) = try imageHeader(file.bytes, path)
    return Images(file: file, count: count, rows: rows, cols: cols, offset: 16)
  }

  /// The count and size of the images an IDX image file holds, checked against its length.
  static func imageHeader(_ b: UnsafeRawBufferPointer, _ path: String) throws -> (count: Int, rows: Int, cols: Int) {
    let fields = try header(b, path, magic: 0x803, fields: 3, kind: "images")
    let (count, rows, cols) = (fields[0], fields[1], fields[2])
    // Three u32 fields can multiply past Int.max; a header that does is as wrong as a short file.
    let (plane, planeOverflow) = rows.multipliedReportingOverflow(by: cols)
    let (pixels, overflow) = count.multipliedReportingOverflow(by: plane)
    guard rows > 0, cols > 0, count > 0, !planeOverflow, !overflow, pixels == b.count - 16 else {
      let size = planeOverflow || overflow ? "more than \(Int.max)" : "\(16 + pixels)"
      throw DatasetError(
        "\(path): header says \(count) images of \(rows)×\(cols) (\(size) bytes), file has \(b.count) bytes (truncated?)",
        kind: !planeOverflow && !overflow && pixels > b.count - 16 ? .truncated : .malformed)
    }
    return (count, rows, cols)
  }

  static func labels(_ path: String, cacheDirectory: String) throws -> [Int32] {
    let file = try mapDecoded(path, cacheDirectory: cacheDirectory)
    return try labels(file.bytes, path)
  }

  /// The labels of an IDX label file; the count is checked against the length before any
  /// array of that count exists.
  static func labels(_ b: UnsafeRawBufferPointer, _ path: String) throws -> [Int32] {
    let count = try header(b, path, magic: 0x801, fields: 1, kind: "labels")[0]
    guard 8 + count == b.count else {
      throw DatasetError(
        "\(path): header says \(count) labels, file holds \(b.count - 8) (truncated?)",
        kind: 8 + count > b.count ? .truncated : .malformed)
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
