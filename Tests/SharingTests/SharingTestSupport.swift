import Numerics
import XCTest

@testable import Sharing

/// Decodes `bytes` as `share` was encoded (its encoding and element count), for a model of
/// `parameterCount` parameters.
func decode(_ bytes: [UInt8], like share: Share, parameterCount: Int? = nil) throws(ShareDecodingError) -> Share {
  try decode(
    bytes, encoding: share.encoding.rawValue, elements: share.count,
    parameterCount: parameterCount ?? share.parameterCount)
}

func decode(_ bytes: [UInt8], encoding: UInt8, elements: Int, parameterCount: Int) throws(ShareDecodingError) -> Share {
  let result = bytes.withUnsafeBytes { raw in
    Result { () throws(ShareDecodingError) -> Share in
      try ShareCodec.decode(
        encoding: encoding, payload: raw, elements: elements, parameterCount: parameterCount,
        declaredParameterCount: parameterCount)
    }
  }
  return try result.get()
}

/// The decoding error, or nil when `bytes` decode.
func decodingError(_ bytes: [UInt8], like share: Share) -> ShareDecodingError? {
  do {
    _ = try decode(bytes, like: share)
    return nil
  } catch { return error }
}

/// encode → decode, checking the size formula and that re-encoding gives the same bytes.
@discardableResult
func assertRoundTrip(_ share: Share, file: StaticString = #filePath, line: UInt = #line) throws -> Share {
  let bytes = ShareCodec.encode(share)
  XCTAssertEqual(bytes.count, ShareCodec.payloadSize(of: share), file: file, line: line)
  XCTAssertEqual(share.dataBytes + share.metadataBytes, bytes.count, file: file, line: line)
  let back = try decode(bytes, like: share)
  XCTAssertEqual(back, share, "\(share.encoding) round trip", file: file, line: line)
  XCTAssertEqual(ShareCodec.encode(back), bytes, "\(share.encoding) re-encodes differently", file: file, line: line)
  return back
}

func randomVector(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
  var rng = Xoshiro256(seed: seed)
  return (0..<n).map { _ in rng.uniform(-scale, scale) }
}

/// `count` distinct sorted indices below `n`.
func randomIndices(_ count: Int, of n: Int, seed: UInt64) -> [UInt32] {
  var rng = Xoshiro256(seed: seed)
  return rng.sample(count, from: n).sorted().map(UInt32.init)
}

func settings(_ name: String, alpha: Double = 1, seed: UInt64 = 7, uid: Int = 0) -> SharingSettings {
  SharingSettings(name: name, alpha: alpha, seed: seed, uid: uid)
}
