import Numerics

/// Why a received payload could not be turned into a share. The frame is dropped and counted.
public enum ShareDecodingError: Error, CustomStringConvertible, Equatable, Sendable {
  case unsupportedEncoding(UInt8)
  case parameterCountMismatch(expected: Int, got: Int)
  /// A fixed-size layout whose byte count does not match its element count.
  case lengthMismatch(encoding: ShareEncoding, bytes: Int, elements: Int)
  /// More elements than the model has parameters, or a dense layout not covering all of them.
  case elementCountMismatch(encoding: ShareEncoding, elements: Int, parameterCount: Int)
  /// A section claims more bytes than the payload has left.
  case truncated(encoding: ShareEncoding, section: String)
  /// Bytes after the last section.
  case trailingBytes(encoding: ShareEncoding, count: Int)
  case unknownFlags(UInt8)
  case unsupportedQuantization(bits: Int, blockSize: Int)
  case badQuantizedValues(QuantizationFault)
  case badIndexStream(IndexCodingError)
  /// A compressed values section that is not one zstd frame of exactly the expected size.
  case badCompressedValues
  case indexOutOfRange(index: Int, parameterCount: Int)
  case indicesNotIncreasing(position: Int)
  case nonFiniteValue(position: Int)

  public var description: String {
    switch self {
    case .unsupportedEncoding(let e): return "unsupported payload encoding \(e)"
    case .parameterCountMismatch(let expected, let got):
      return "share is for a model of \(got) parameters, this node's model has \(expected)"
    case .lengthMismatch(let e, let b, let n): return "payload of \(b) bytes does not hold \(n) \(e) elements"
    case .elementCountMismatch(let e, let n, let p): return "\(n) \(e) elements do not fit a model of \(p) parameters"
    case .truncated(let e, let s): return "\(e) payload ends inside its \(s)"
    case .trailingBytes(let e, let n): return "\(n) bytes after the end of a \(e) payload"
    case .unknownFlags(let f): return "unknown share flags 0x\(String(f, radix: 16))"
    case .unsupportedQuantization(let b, let s): return "unsupported quantization: \(b) bits, blocks of \(s)"
    case .badQuantizedValues(let f): return "bad quantized values: \(f)"
    case .badIndexStream(let f): return "bad index stream: \(f)"
    case .badCompressedValues: return "compressed values are not one zstd frame of the expected size"
    case .indexOutOfRange(let i, let n): return "share index \(i) outside the model's \(n) parameters"
    case .indicesNotIncreasing(let p): return "share indices not strictly increasing at position \(p)"
    case .nonFiniteValue(let p): return "share value at position \(p) is NaN or infinite"
    }
  }
}

extension ShareCodec {
  /// Decodes a payload of `elements` elements into a share for a model of `parameterCount`
  /// parameters (`declaredParameterCount` is the header's).
  ///
  /// With `backing`, the frame that `payload` lies in, a dense (encoding 1) share keeps its
  /// values in place in the frame instead of copying them (or copies them when the frame is not
  /// 4-byte aligned). Such a share is not scanned for NaN and infinity here: the `Aggregator`
  /// checks each value as it averages it, which reads the 4 bytes per parameter once instead of
  /// twice (a separate scan took 15 % of a 16-node cluster's CPU). Every other layout, and a
  /// dense share without `backing`, is checked whole here.
  public static func decode(
    encoding raw: UInt8, payload: UnsafeRawBufferPointer, elements: Int, parameterCount: Int,
    declaredParameterCount: Int, backing: SharedBytes? = nil
  ) throws(ShareDecodingError) -> Share {
    guard let encoding = ShareEncoding(rawValue: raw) else { throw .unsupportedEncoding(raw) }
    guard declaredParameterCount == parameterCount else {
      throw .parameterCountMismatch(expected: parameterCount, got: declaredParameterCount)
    }
    let everyParameter: Set<ShareEncoding> = [.dense, .quantized, .framedDense]
    guard elements >= 0, elements <= parameterCount, !everyParameter.contains(encoding) || elements == parameterCount
    else { throw .elementCountMismatch(encoding: encoding, elements: elements, parameterCount: parameterCount) }
    switch encoding {
    case .dense: return try decodeDense(payload, elements, backing)
    case .indexed: return try decodeIndexValuePairs(payload, elements, parameterCount)
    case .seeded:
      guard payload.count == 8 + 4 * elements else {
        throw .lengthMismatch(encoding: encoding, bytes: payload.count, elements: elements)
      }
      var r = ByteReader(payload)
      let seed = r.u64()!
      let values = try floats(r.take(4 * elements)!, elements)
      let indices = SeededMask.indices(seed: seed, count: elements, parameterCount: parameterCount)
      return Share(seed: seed, indices: indices, values: values, parameterCount: parameterCount)
    default:
      return try decodeFramed(encoding, payload, elements, parameterCount)
    }
  }

  private static func decodeDense(
    _ payload: UnsafeRawBufferPointer, _ elements: Int, _ backing: SharedBytes?
  ) throws(ShareDecodingError) -> Share {
    guard payload.count == elements * 4 else {
      throw .lengthMismatch(encoding: .dense, bytes: payload.count, elements: elements)
    }
    if let backing, let start = payload.baseAddress, elements > 0,
      Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0,
      start >= backing.base, start + payload.count <= backing.base + backing.count
    {
      return Share(denseBorrowing: backing, offset: start - backing.base, count: elements, checked: false)
    }
    if backing != nil {
      // A frame ZeroMQ handed over unaligned is copied, and treated like a borrowed one: its
      // NaNs are left out value by value while averaging. Rejecting the whole frame here made a
      // neighbour's NaN cost its whole model or one value depending on where ZeroMQ had put the
      // message in its receive buffer.
      var share = Share(dense: try floats(payload, elements, check: false))
      share.valuesChecked = false
      return share
    }
    return Share(dense: try floats(payload, elements))
  }

  private static func decodeIndexValuePairs(
    _ payload: UnsafeRawBufferPointer, _ elements: Int, _ parameterCount: Int
  ) throws(ShareDecodingError) -> Share {
    guard payload.count == elements * 8 else {
      throw .lengthMismatch(encoding: .indexed, bytes: payload.count, elements: elements)
    }
    var indices = [UInt32](repeating: 0, count: elements)
    var values = [Float](repeating: 0, count: elements)
    var r = ByteReader(payload)
    var previous = -1
    for k in 0..<elements {
      let index = Int(r.u32()!)
      let value = Float(bitPattern: r.u32()!)
      guard index < parameterCount else { throw .indexOutOfRange(index: index, parameterCount: parameterCount) }
      guard index > previous else { throw .indicesNotIncreasing(position: k) }
      guard value.isFinite else { throw .nonFiniteValue(position: k) }
      indices[k] = UInt32(index)
      values[k] = value
      previous = index
    }
    return Share(indices: indices, values: values, parameterCount: parameterCount)
  }

  /// Encodings 4–8: prefix, then their sections in order (docs/protocol.md §4.1).
  private static func decodeFramed(
    _ encoding: ShareEncoding, _ payload: UnsafeRawBufferPointer, _ elements: Int, _ parameterCount: Int
  ) throws(ShareDecodingError) -> Share {
    var r = ByteReader(payload)
    func need<T>(_ value: T?, _ section: String) throws(ShareDecodingError) -> T {
      guard let value else { throw .truncated(encoding: encoding, section: section) }
      return value
    }
    let flags = try need(r.u8(), "flags")
    guard flags & ~Flag.known == 0, flags & Flag.keyframe == 0 || flags & Flag.publicCopy != 0 else {
      throw .unknownFlags(flags)
    }
    var tag: PublicCopyTag?
    if flags & Flag.publicCopy != 0 {
      let base = try need(r.u32(), "copy tag")
      let sequence = try need(r.u32(), "copy tag")
      let count = Int(try need(r.u8(), "copy tag"))
      let list = try need(r.take(4 * count), "resend list")
      let resend = (0..<count).map { UInt32(littleEndian: list.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
      tag = PublicCopyTag(base: base, sequence: sequence, keyframe: flags & Flag.keyframe != 0, resend: resend)
    }
    var indices: [UInt32]?
    var indexCode = (order: 0, bytes: 0)
    if encoding == .sparse || encoding == .sparseQuantized {
      let order = Int(try need(r.u8(), "index order"))
      let length = Int(try need(r.u32(), "index stream length"))
      let stream = try need(r.take(length), "index stream")
      do {
        indices = try IndexCoding.decode(stream, order: order, count: elements, parameterCount: parameterCount)
      } catch { throw .badIndexStream(error) }
      indexCode = (order, length)
    }
    var quantization: (bits: Int, blockSize: Int)?
    if encoding == .quantized || encoding == .sparseQuantized {
      let bits = Int(try need(r.u8(), "quantization"))
      let blockSize = Int(try need(r.u32(), "quantization"))
      guard QuantizedValues.supportedBits.contains(bits), blockSize > 0, blockSize <= QuantizedValues.maximumBlockSize
      else {
        throw .unsupportedQuantization(bits: bits, blockSize: blockSize)
      }
      quantization = (bits, blockSize)
    }
    var seed: UInt64 = 0
    if encoding == .framedSeeded { seed = try need(r.u64(), "seed") }

    let rawSize =
      quantization.map { quantizedSectionSize(count: elements, bits: $0.bits, blockSize: $0.blockSize) }
      ?? 4 * elements
    var compressed: [UInt8]?
    var inflated: [UInt8] = []
    let section: UnsafeRawBufferPointer
    if flags & Flag.compressed != 0 {
      let length = Int(try need(r.u32(), "compressed values length"))
      let frame = try need(r.take(length), "compressed values")
      guard let bytes = ZstdCompressor.decompress(frame, exactSize: rawSize) else { throw .badCompressedValues }
      compressed = [UInt8](frame)
      inflated = bytes
      section = UnsafeRawBufferPointer(start: nil, count: 0)
    } else {
      section = try need(r.take(rawSize), "values")
    }
    guard r.remaining == 0 else { throw .trailingBytes(encoding: encoding, count: r.remaining) }

    let storage = try inflated.withUnsafeBytes { bytes in
      Result { () throws(ShareDecodingError) -> Share.Storage in
        let values = compressed != nil ? bytes : section
        guard let quantization else { return .owned(try floats(values, elements)) }
        return .quantized(try quantized(values, elements, quantization.bits, quantization.blockSize))
      }
    }.get()
    let selection: ShareSelection
    switch encoding {
    case .framedSeeded:
      selection = .seeded(
        seed: seed, indices: SeededMask.indices(seed: seed, count: elements, parameterCount: parameterCount))
    case .sparse, .sparseQuantized: selection = .indices(indices!)
    default: selection = .all
    }
    return Share(
      parameterCount: parameterCount, selection: selection, storage: storage, publicCopy: tag, indexCode: indexCode,
      compressedValues: compressed)
  }

  /// `count` float32 values from exactly 4·count bytes, all finite.
  private static func floats(
    _ bytes: UnsafeRawBufferPointer, _ count: Int, check: Bool = true
  ) throws(ShareDecodingError) -> [Float] {
    let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes) }
      initialized = count
    }
    if check, let bad = values.withUnsafeBufferPointer(firstNonFinite) { throw .nonFiniteValue(position: bad) }
    return values
  }

  private static func quantized(
    _ bytes: UnsafeRawBufferPointer, _ count: Int, _ bits: Int, _ blockSize: Int
  ) throws(ShareDecodingError) -> QuantizedValues {
    let blocks = QuantizedValues.blockCount(count: count, blockSize: blockSize)
    let scales = [Float](unsafeUninitializedCapacity: blocks) { buffer, initialized in
      if blocks > 0 {
        UnsafeMutableRawBufferPointer(buffer).copyMemory(
          from: UnsafeRawBufferPointer(rebasing: bytes[0..<(4 * blocks)]))
      }
      initialized = blocks
    }
    let codes = [UInt8](bytes[(4 * blocks)...])
    let q = QuantizedValues(bits: bits, blockSize: blockSize, count: count, scales: scales, codes: codes)
    if let fault = q.validate() { throw .badQuantizedValues(fault) }
    return q
  }
}
