import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// CIFAR-10, binary version: `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`, each a
/// sequence of 3073-byte records (a label byte 0…9, then 1024 red, 1024 green, 1024 blue bytes of
/// a 32×32 image, already channel-major). Normalised with mean 0.5 and std 0.5 per channel
/// (pixels in [−1, 1]).
///
/// The test file is memory-mapped and shared; a node's training records are read with pread.
enum CIFAR10Reader {
  static let record = 3073
  static let mean: [Float] = [0.5, 0.5, 0.5]
  static let std: [Float] = [0.5, 0.5, 0.5]

  static func trainFiles(_ dir: String) throws -> [String] {
    let files = (1...5).map { "\(dir)/data_batch_\($0).bin" }.prefix { FileManager.default.fileExists(atPath: $0) }
    guard !files.isEmpty else { throw DatasetError.missing("CIFAR-10 data_batch_1.bin", path: dir) }
    return Array(files)
  }

  /// Checks a batch file's size and returns its labels.
  static func labels(_ path: String) throws -> [Int32] {
    let file = try MappedFile(path: path)
    let b = file.bytes
    guard b.count > 0, b.count % record == 0 else {
      throw DatasetError("\(path): \(b.count) bytes is not a whole number of 3073-byte CIFAR-10 records (truncated?)")
    }
    return try (0..<(b.count / record)).map { r in
      let label = b[r * record]
      guard label < 10 else { throw DatasetError("\(path): record \(r) has label \(label); expected 0…9") }
      return Int32(label)
    }
  }

  static func test(_ dir: String) throws -> ByteImageSource {
    let path = "\(dir)/test_batch.bin"
    guard FileManager.default.fileExists(atPath: path) else {
      throw DatasetError.missing("CIFAR-10 test_batch.bin", path: dir)
    }
    let labels = try labels(path)
    return ByteImageSource(
      mapped: try MappedFile(path: path), recordStride: record, pixelOffset: 1, labels: labels, shape: [3, 32, 32],
      classCount: 10, mean: mean, std: std)
  }

  /// All training labels, in file order (for the partitioner).
  static func trainLabels(_ files: [String]) throws -> [[Int32]] { try files.map(labels) }

  /// The records at global `indices` (file order across batches), read privately.
  static func shard(files: [String], perFile: [[Int32]], indices: [Int]) throws -> ByteImageSource {
    var starts: [Int] = []
    var total = 0
    for l in perFile {
      starts.append(total)
      total += l.count
    }
    var pixels = [UInt8](repeating: 0, count: indices.count * 3072)
    var labels: [Int32] = []
    let fds = files.map { open($0, O_RDONLY) }
    defer { for fd in fds where fd >= 0 { close(fd) } }
    try pixels.withUnsafeMutableBytes { raw in
      for (k, i) in indices.enumerated() {
        guard let f = starts.lastIndex(where: { $0 <= i }), i - starts[f] < perFile[f].count, fds[f] >= 0 else {
          throw DatasetError("CIFAR-10: sample \(i) out of range")
        }
        let r = i - starts[f]
        let n = pread(fds[f], raw.baseAddress! + k * 3072, 3072, off_t(r * record + 1))
        guard n == 3072 else { throw DatasetError("\(files[f]): short read at record \(r)") }
        labels.append(perFile[f][r])
      }
    }
    return ByteImageSource(
      mapped: nil, owned: pixels, recordStride: 3072, labels: labels, shape: [3, 32, 32], classCount: 10, mean: mean,
      std: std)
  }
}
