import Numerics
import XCTest

@testable import Transport

final class WireCodecTests: XCTestCase {
  func sampleFrame() -> [UInt8] {
    var h = WireHeader(kind: .model, sender: 7)
    h.encoding = .rawFloat32
    h.degree = 4
    h.round = 12
    h.age = 3
    h.aux = 99
    h.parameterCount = 3
    h.elementCount = 3
    return WireCodec.encode(header: h, payload: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40])
  }

  func testRoundTripKeepsEveryField() throws {
    let bytes = sampleFrame()
    XCTAssertEqual(bytes.count, 64 + 12)
    XCTAssertEqual(Array(bytes[0..<8]), [0x50, 0x45, 0x45, 0x52, 1, 4, 1, 0])
    let frame = try bytes.withUnsafeBytes { try WireCodec.decode($0) }
    XCTAssertEqual(frame.header.kind, .model)
    XCTAssertEqual(frame.header.sender, 7)
    XCTAssertEqual(frame.header.degree, 4)
    XCTAssertEqual(frame.header.round, 12)
    XCTAssertEqual(frame.header.age, 3)
    XCTAssertEqual(frame.header.aux, 99)
    XCTAssertEqual(frame.header.parameterCount, 3)
    XCTAssertEqual(frame.header.elementCount, 3)
    XCTAssertEqual(frame.header.payloadLength, 12)
    XCTAssertEqual(frame.payload.count, 12)
    for kind in MessageKind.allCases {
      let control = WireCodec.encode(header: WireHeader(kind: kind, sender: 1), payload: [])
      XCTAssertEqual(try control.withUnsafeBytes { try WireCodec.decode($0) }.header.kind, kind)
    }
  }

  func testEveryTruncationIsRejected() {
    let bytes = sampleFrame()
    for cut in 0..<bytes.count {
      let prefix = Array(bytes[0..<cut])
      XCTAssertThrowsError(try prefix.withUnsafeBytes { try WireCodec.decode($0) }, "prefix of \(cut) bytes accepted")
    }
  }

  func decodeError(_ bytes: [UInt8]) -> WireError? {
    do {
      _ = try bytes.withUnsafeBytes { try WireCodec.decode($0) }
      return nil
    } catch { return error as? WireError }
  }

  func testCorruptHeadersAreRejectedWithTheirReason() {
    var b = sampleFrame()
    b[0] = 0x51
    XCTAssertEqual(decodeError(b), .badMagic)
    b = sampleFrame()
    b[4] = 2
    XCTAssertEqual(decodeError(b), .unsupportedVersion(2))
    b = sampleFrame()
    b[5] = 200
    XCTAssertEqual(decodeError(b), .unknownKind(200))
    b = sampleFrame()
    b[6] = 77
    XCTAssertEqual(decodeError(b), .unknownEncoding(77))
    b = sampleFrame()
    b[44] = 4  // 4 elements do not fit 12 bytes of float32
    XCTAssertEqual(decodeError(b), .elementCountMismatch(encoding: .rawFloat32, elements: 4, payloadLength: 12))
    b = sampleFrame()
    b.append(0)
    XCTAssertEqual(decodeError(b), .payloadLengthMismatch(declared: 12, actual: 13))
    b = sampleFrame()
    b[60] = 1
    XCTAssertEqual(decodeError(b), .nonZeroReserved)
    b = sampleFrame()
    b[55] = 0xFF  // absurd declared payload length
    XCTAssertNotNil(decodeError(b))
  }

  /// Encodings 4–8 have variable-length sections: the header check is their fixed minimum and
  /// an element count no larger than the model; the share codec checks the rest.
  func testVariableLengthEncodingsAreCheckedForWhatTheHeaderImplies() {
    let minimum: [PayloadEncoding: Int] = [
      .quantized: 6, .sparse: 6, .sparseQuantized: 11, .framedFloat32: 1, .framedSeedValues: 9,
    ]
    XCTAssertEqual(Set(minimum.keys), Set(PayloadEncoding.allCases.filter { $0.rawValue >= 4 }))
    for (encoding, least) in minimum {
      var h = WireHeader(kind: .model, sender: 1)
      h.encoding = encoding
      h.parameterCount = 1000
      h.elementCount = 100
      for length in [least, least + 1, 5000] {
        let frame = WireCodec.encode(header: h, payload: [UInt8](repeating: 0, count: length))
        XCTAssertNil(decodeError(frame), "\(encoding) with \(length) bytes")
      }
      let short = WireCodec.encode(header: h, payload: [UInt8](repeating: 0, count: least - 1))
      XCTAssertEqual(
        decodeError(short), .elementCountMismatch(encoding: encoding, elements: 100, payloadLength: UInt64(least - 1)))
      h.elementCount = 1001
      let tooMany = WireCodec.encode(header: h, payload: [UInt8](repeating: 0, count: 5000))
      XCTAssertEqual(
        decodeError(tooMany), .elementCountMismatch(encoding: encoding, elements: 1001, payloadLength: 5000))
    }
    // The fixed encodings stay exact.
    XCTAssertEqual(PayloadEncoding.seedValues.expectedLength(elements: 3), 20)
    XCTAssertNil(PayloadEncoding.sparse.expectedLength(elements: 3))
  }

  func testRandomGarbageNeverCrashes() {
    var rng = Xoshiro256(seed: 2024)
    let valid = sampleFrame()
    var accepted = 0
    for trial in 0..<5000 {
      var bytes: [UInt8]
      if trial % 2 == 0 {
        bytes = (0..<rng.nextInt(below: 140)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      } else {
        bytes = valid
        for _ in 0..<(1 + rng.nextInt(below: 4)) {
          bytes[rng.nextInt(below: bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
        }
      }
      if (try? bytes.withUnsafeBytes { try WireCodec.decode($0) }) != nil { accepted += 1 }
    }
    // Mutations of payload bytes (or of fields the codec cannot check) still decode; pure garbage never does.
    XCTAssertLessThan(accepted, 2500)
  }

  func testLedgerSplitsDataAndMetadata() {
    var ledger = TrafficLedger()
    ledger.recordSent(to: 1, data: 400, metadata: 64)
    ledger.recordSent(to: 2, data: 400, metadata: 64)
    ledger.recordReceived(from: 1, data: 400, metadata: 64)
    XCTAssertEqual(ledger.totalSent.data, 800)
    XCTAssertEqual(ledger.totalSent.metadata, 128)
    XCTAssertEqual(ledger.totalSent.messages, 2)
    XCTAssertEqual(ledger.sentByPeer[2]?.data, 400)
    XCTAssertEqual(ledger.receivedByPeer[1]?.messages, 1)
  }
}
