import Numerics

/// UInt8 images in fixed-size records, converted to Float one batch at a time with a per-channel
/// normalisation x = (byte/255 − mean_c)/std_c.
///
/// The bytes are either a read-only shared mapping of a file (a test set every process reads in
/// full) or a private array (a node's training shard, or decoded JPEGs). Records may carry a
/// header (CIFAR-10's label byte): `pixelOffset` skips it.
public final class ByteImageSource: SampleSource {
  let mapped: MappedFile?
  let owned: [UInt8]
  let base: Int
  let recordStride: Int
  let pixelOffset: Int
  let labels: [Int32]
  public let inputShape: [Int]
  public let classCount: Int
  let mean: [Float]
  let std: [Float]

  init(
    mapped: MappedFile?, owned: [UInt8] = [], base: Int = 0, recordStride: Int, pixelOffset: Int = 0, labels: [Int32],
    shape: [Int], classCount: Int, mean: [Float], std: [Float]
  ) {
    self.mapped = mapped
    self.owned = owned
    self.base = base
    self.recordStride = recordStride
    self.pixelOffset = pixelOffset
    self.labels = labels
    inputShape = shape
    self.classCount = classCount
    self.mean = mean
    self.std = std
  }

  public var count: Int { labels.count }

  /// Raw byte `p` of sample `index` (tests, tools).
  public func pixel(_ index: Int, _ p: Int) -> UInt8 {
    let offset = base + index * recordStride + pixelOffset + p
    return mapped.map { $0.bytes[offset] } ?? owned[offset]
  }

  /// A private copy of the samples at `indices`, read with pread from the mapped file, so a node
  /// holding 1/96 of a training set touches only its own bytes. (Touching them through the map
  /// would also pull the kernel's fault-around pages, about 64 KiB per sample, into the RSS.)
  func shard(_ indices: [Int]) throws -> ByteImageSource {
    let size = inputShape.reduce(1, *)
    let pixels: [UInt8]
    if let mapped {
      pixels = try IDX.readRecords(
        mapped.path, base: base + pixelOffset, stride: recordStride, length: size, count: count, indices: indices)
    } else {
      pixels = indices.flatMap { owned[($0 * recordStride + pixelOffset)..<($0 * recordStride + pixelOffset + size)] }
    }
    return ByteImageSource(
      mapped: nil, owned: pixels, recordStride: size, labels: indices.map { labels[$0] },
      shape: inputShape, classCount: classCount, mean: mean, std: std)
  }
  public func label(at index: Int) -> Int32 { labels[index] }

  public func fill(_ batch: inout Batch, indices: ArraySlice<Int>) {
    batch.removeAll()
    batch.inputShape = inputShape
    batch.count = indices.count
    let channels = inputShape[0]
    let plane = inputShape[1] * inputShape[2]
    func convert(_ bytes: UnsafeRawBufferPointer) {
      for i in indices {
        let start = base + i * recordStride + pixelOffset
        for c in 0..<channels {
          let scale = 1 / (255 * std[c])
          let shift = -mean[c] / std[c]
          for p in 0..<plane { batch.inputs.append(Float(bytes[start + c * plane + p]) * scale + shift) }
        }
        batch.labels.append(labels[i])
      }
    }
    if let mapped { convert(mapped.bytes) } else { owned.withUnsafeBytes { convert($0) } }
  }
}
