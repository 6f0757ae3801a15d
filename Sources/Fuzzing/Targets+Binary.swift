import Datasets
import Foundation
import Numerics
import Sharing
import Transport

/// The binary formats: IDX (raw and gzip), the MovieLens cache, the wire header and the share
/// payloads behind it.
enum BinaryTargets {
  static func be32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
  static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

  // MARK: IDX

  static func labels(_ values: [UInt8]) -> [UInt8] { [0, 0, 8, 1] + be32(values.count) + values }
  static func images(count: Int, rows: Int, cols: Int) -> [UInt8] {
    [0, 0, 8, 3] + be32(count) + be32(rows) + be32(cols) + (0..<(count * rows * cols)).map { UInt8($0 % 251) }
  }

  static let idx = FuzzTarget(
    name: "idx",
    seeds: [
      labels([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]), images(count: 3, rows: 4, cols: 5),
      DatasetDecoders.gzip(labels([5, 0, 4, 1, 9])), DatasetDecoders.gzip(images(count: 2, rows: 28, cols: 28)),
    ],
    countFields: [
      .init(offset: 4, width: 4, bigEndian: true), .init(offset: 8, width: 4, bigEndian: true),
      .init(offset: 12, width: 4, bigEndian: true), .init(offset: 3, width: 1),
    ],
    claims: [
      { n in [0, 0, 8, 1] + be32(n) + [1, 2] },
      { n in [0, 0, 8, 3] + be32(n) + be32(28) + be32(28) + [0, 0, 0] },
      { n in [0, 0, 8, 3] + be32(n) + be32(n) + be32(n) },
      { n in DatasetDecoders.gzip([0, 0, 8, 1] + be32(n) + [UInt8](repeating: 0, count: 60_000)) },
      // 2 KB inflating to 2.2 MB: an output array doubling past deflate's bound shows here.
      { n in DatasetDecoders.gzip([0, 0, 8, 1] + be32(n) + [UInt8](repeating: 0, count: 2_200_000)) },
    ],
    // A gzip input may inflate up to deflate's limit of 1032 bytes per input byte (never past
    // the size its IDX header declares); a raw one to 4 bytes per label.
    allocationPerInputByte: 1100,
    finish: { DatasetDecoders.gzip($0) },
    decode: { bytes in FuzzTarget.outcome { try DatasetDecoders.idx(Data(bytes), path: "fuzz.idx") } })

  // MARK: MovieLens cache

  static let movieLensCacheSeed: [UInt8] = {
    let csv = "userId,movieId,rating,timestamp\n1,1,4.0,9\n1,3,4.0,9\n2,1,3.5,9\n3,50,0.5,9\n"
    return (try? DatasetDecoders.movieLensCacheBytes(Data(csv.utf8))).map { [UInt8]($0) } ?? []
  }()

  static let movieLensCache = FuzzTarget(
    name: "movielens-cache", seeds: [movieLensCacheSeed],
    countFields: [.init(offset: 4, width: 8), .init(offset: 12, width: 8), .init(offset: 20, width: 8)],
    claims: [
      { n in
        Array("PDML".utf8) + le32(n) + le32(0) + le32(2) + le32(0) + le32(2) + le32(0)
          + [UInt8](repeating: 0, count: 12)
      }
    ],
    decode: { bytes in DatasetDecoders.movieLensCache(Data(bytes)) == nil ? .rejected("invalid cache") : .accepted })

  // MARK: Wire frames

  /// The model size of the receiving node in the frame target: LogisticRegression on Synthetic.
  static let receiverParameters = 610

  static func frame(_ kind: MessageKind, _ seed: (ShareEncoding, Share)?) -> [UInt8] {
    var h = WireHeader(kind: kind, sender: 3)
    h.degree = 4
    h.round = 7
    guard let (encoding, share) = seed else { return WireCodec.encode(header: h, payload: []) }
    let (elements, payload) = ShareSeeds.payload(encoding, share)
    h.encoding = PayloadEncoding(rawValue: encoding.rawValue) ?? .none
    h.parameterCount = UInt32(share.parameterCount)
    h.elementCount = UInt32(elements)
    return WireCodec.encode(header: h, payload: payload)
  }

  static let wireHeader = FuzzTarget(
    name: "wire-frame",
    seeds: [frame(.hello, nil), frame(.bye, nil), frame(.heartbeat, nil), frame(.stop, nil)]
      + ShareSeeds.builders.map { frame(.model, ($0.0, $0.1(receiverParameters))) },
    countFields: [
      .init(offset: 12, width: 4), .init(offset: 40, width: 4), .init(offset: 44, width: 4),
      .init(offset: 48, width: 8), .init(offset: 5, width: 1), .init(offset: 6, width: 1),
    ],
    claims: [
      { n in
        var h = WireHeader(kind: .model, sender: 1)
        h.encoding = .rawFloat32
        h.parameterCount = UInt32(truncatingIfNeeded: n)
        h.elementCount = UInt32(truncatingIfNeeded: n)
        var b = WireCodec.encode(header: h, payload: [UInt8](repeating: 0, count: 16))
        for k in 0..<8 { b[48 + k] = UInt8(truncatingIfNeeded: (4 * n) >> (8 * k)) }
        return b
      }
    ],
    decode: { bytes in
      let frame = SharedBytes(bytes)
      return FuzzTarget.outcome {
        let header = try WireCodec.decodeHeader(frame.bytes)
        guard header.kind == .model else { return }
        // As PeerLink does: the payload in place in the frame, the receiver's own model size.
        _ = try ShareCodec.decode(
          encoding: header.encoding.rawValue,
          payload: UnsafeRawBufferPointer(rebasing: frame.bytes[WireHeader.size...]),
          elements: Int(header.elementCount), parameterCount: receiverParameters,
          declaredParameterCount: Int(header.parameterCount), backing: frame)
      }
    })

  // MARK: Share payloads

  /// Receiver model sizes: tiny, the frame target's, and a million, where a decoder that sized
  /// an array by the model instead of the payload would show.
  static let parameterCounts = [1, 7, receiverParameters, 1_000_000]

  /// Input layout: [model size index u8][encoding u8][elements u32 LE][declared parameter count
  /// u32 LE][payload…].
  static func shareInput(_ pc: Int, _ encoding: ShareEncoding, _ share: Share) -> [UInt8] {
    let (elements, payload) = ShareSeeds.payload(encoding, share)
    return [UInt8(pc), encoding.rawValue] + le32(elements) + le32(share.parameterCount) + payload
  }

  static let share = FuzzTarget(
    name: "share-payload",
    seeds: ShareSeeds.builders.flatMap { encoding, build in
      (0..<3).map { pc in shareInput(pc, encoding, build(parameterCounts[pc])) }
    },
    countFields: [
      .init(offset: 0, width: 1), .init(offset: 1, width: 1), .init(offset: 2, width: 4), .init(offset: 6, width: 4),
    ],
    claims: [
      { n in [3, ShareEncoding.indexed.rawValue] + le32(n) + le32(1_000_000) + [UInt8](repeating: 0, count: 16) },
      { n in [3, ShareEncoding.dense.rawValue] + le32(n) + le32(n) + [UInt8](repeating: 0, count: 16) },
      { n in [3, ShareEncoding.seeded.rawValue] + le32(n) + le32(1_000_000) + [UInt8](repeating: 0, count: 16) },
    ],
    decode: { bytes in
      guard bytes.count >= 10 else { return .rejected("shorter than the share input header") }
      let parameterCount = parameterCounts[Int(bytes[0]) % parameterCounts.count]
      func u32(_ o: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[o + $1]) << (8 * $1) } }
      return FuzzTarget.outcome {
        try bytes.withUnsafeBytes { raw in
          _ = try ShareCodec.decode(
            encoding: bytes[1], payload: UnsafeRawBufferPointer(rebasing: raw[10...]), elements: u32(2),
            parameterCount: parameterCount, declaredParameterCount: u32(6))
        }
      }
    })
}

/// One line per share encoding: a valid share of it for a model of `n` parameters. The share
/// and frame targets start from these, so a new encoding is fuzzed from the line that builds it
/// (a test checks that every `ShareEncoding` case has one). Shares come from the public API, as a
/// sender builds them; the legacy index+value layout (decoded, no longer sent) is written out.
public enum ShareSeeds {
  public static let builders: [(ShareEncoding, @Sendable (Int) -> Share)] = [
    (.dense, { n in Share(dense: values(n)) }),
    (.indexed, { n in sparse(n) }),
    (.seeded, { n in seeded(n) }),
    (.quantized, { n in quantized(n, sparse: false) }),
    (.sparse, { n in sparse(n) }),
    (.sparseQuantized, { n in quantized(n, sparse: true) }),
    (.framedDense, { n in Share(dense: values(n)).tagged(PublicCopyTag(base: 0, sequence: 1, keyframe: true)) }),
    (.framedSeeded, { n in seeded(n).tagged(PublicCopyTag(base: 3, sequence: 4, keyframe: false)) }),
  ]

  static func values(_ n: Int) -> [Float] { (0..<n).map { Float($0) * 0.25 - 1 } }

  static func sparse(_ n: Int) -> Share {
    let picked = Array(stride(from: 0, to: n, by: 3)).map { UInt32($0) }
    return Share(indices: picked, values: picked.map { Float($0) }, parameterCount: n)
  }

  static func seeded(_ n: Int) -> Share {
    let k = (n + 1) / 2
    return Share(
      seed: 42, indices: SeededMask.indices(seed: 42, count: k, parameterCount: n), values: (0..<k).map { -Float($0) },
      parameterCount: n)
  }

  /// A CHOCO delta, from the Quantize method itself: its first share to a peer is a keyframe,
  /// the second a quantized delta (sparse when composed with TopK).
  static func quantized(_ n: Int, sparse: Bool) -> Share {
    var settings = SharingSettings(name: "Quantize", alpha: sparse ? 0.3 : 1)
    settings.bits = 8
    guard let strategy = try? SharingRegistry.make(settings, initialModel: FloatBuffer(values(n))) else {
      preconditionFailure("the Quantize seed settings are valid")
    }
    let model = FloatBuffer(values(n))
    _ = strategy.makeShares(of: model, round: 1, recipients: [1])
    for i in 0..<n { model[i] += Float(i % 5) * 0.01 }
    return strategy.makeShares(of: model, round: 2, recipients: [1])[0].share
  }

  /// The payload bytes and element count of a seed share; the legacy `.indexed` layout is the
  /// sparse share's indices and values as (u32, f32) pairs.
  public static func payload(_ encoding: ShareEncoding, _ share: Share) -> (elements: Int, bytes: [UInt8]) {
    guard encoding == .indexed else { return (share.count, ShareCodec.encode(share)) }
    var out: [UInt8] = []
    share.withUnsafeValues { values in
      for (i, v) in zip(share.indices, values) {
        for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: i >> (8 * UInt32(k)))) }
        for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32(k)))) }
      }
    }
    return (share.count, out)
  }
}
