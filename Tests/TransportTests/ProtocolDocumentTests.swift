import Foundation
import Numerics
import XCTest

@testable import Transport

/// docs/protocol.md is a contract: its examples must be what the encoder produces, and a peer
/// written from it in another language must interoperate.
final class ProtocolDocumentTests: XCTestCase {
  static let docPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("docs/protocol.md").path

  func hexBlocks() throws -> [[UInt8]] {
    let text = try String(contentsOfFile: Self.docPath, encoding: .utf8)
    let section = try XCTUnwrap(text.components(separatedBy: "## 6. Example").last)
    return section.components(separatedBy: "```").enumerated().filter { $0.offset % 2 == 1 }.map { block in
      block.element.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt8($0, radix: 16) }
    }
  }

  func testDocumentedExamplesAreWhatTheEncoderProduces() throws {
    let blocks = try hexBlocks()
    XCTAssertEqual(blocks.count, 2)
    // As a node sends it: PeerLink's control frame, with the incarnation in `aux`.
    final class Capture: MessageTransport {
      let localUID = 3
      var sent: [[UInt8]] = []
      func send(_ frame: SharedBytes, to uid: Int) -> Bool {
        sent.append(frame.array)
        return true
      }
      func receive(timeout: Double) throws(TransportError) -> InboundMessage? { nil }
      func disconnect(_ uid: Int) {}
      var drops: [String: Int] { [:] }
      func close() {}
    }
    let capture = Capture()
    let link = PeerLink(uid: 3, transport: capture, parameterCount: 7850, incarnation: 0x0123_4567_89ab_cdef)
    link.sendControl(.hello, to: 0, round: 0, degree: 4)
    XCTAssertEqual(capture.sent, [blocks[0]])
    var model = WireHeader(kind: .model, sender: 1)
    model.encoding = .rawFloat32
    model.degree = 2
    model.round = 2
    model.parameterCount = 3
    model.elementCount = 3
    let payload: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40]
    XCTAssertEqual(WireCodec.encode(header: model, payload: payload), blocks[1])
  }

  /// A Python peer written from docs/protocol.md alone, as a separate process.
  static let pythonPeer = #"""
    import struct, sys, zmq
    endpoint, my_port = sys.argv[1], int(sys.argv[2])
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER); router.bind("tcp://127.0.0.1:%d" % my_port)
    dealer = ctx.socket(zmq.DEALER); dealer.setsockopt(zmq.ROUTING_ID, b"9"); dealer.connect(endpoint)
    def header(kind, enc, sender, degree, rnd, params, elems, length):
        return b"PEER" + struct.pack("<BBBBIIQQQIIQ8x", 1, kind, enc, 0, sender, degree, rnd, 0, 0, params, elems, length)
    values = [0.5, -1.5, 2.25]
    payload = struct.pack("<3f", *values)
    dealer.send(header(4, 1, 9, 1, 7, 3, 3, len(payload)) + payload)
    if not router.poll(10000): sys.exit("no frame from peerd")
    ident, frame = router.recv_multipart()
    magic, (ver, kind, enc, flags, sender, degree, rnd, age, aux, params, elems, length) = frame[:4], struct.unpack("<BBBBIIQQQIIQ", frame[4:56])
    assert magic == b"PEER" and ver == 1 and kind == 4 and enc == 1, (magic, ver, kind, enc)
    assert ident == str(sender).encode() and len(frame) == 64 + length == 64 + 4 * elems
    got = struct.unpack("<%df" % elems, frame[64:])
    print("ok", sender, rnd, " ".join("%g" % v for v in got))
    dealer.close(0); router.close(0); ctx.term()
    """#

  func testPythonPeerFromTheDocumentInteroperates() throws {
    let check = Process()
    check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    check.arguments = ["python3", "-c", "import zmq"]
    check.standardError = FileHandle.nullDevice
    try? check.run()
    check.waitUntilExit()
    guard check.terminationReason == .exit, check.terminationStatus == 0 else {
      throw XCTSkip("python3 with pyzmq is not installed (pip install pyzmq); .ci/run installs it")
    }
    let me = try ZMQTransport(uid: 4, bindEndpoint: "tcp://127.0.0.1:*")
    defer { me.close() }
    let pyPort = 47000 + Int.random(in: 0..<2000)
    let python = Process()
    python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    python.arguments = ["python3", "-c", Self.pythonPeer, me.boundEndpoint, "\(pyPort)"]
    let out = Pipe()
    python.standardOutput = out
    python.standardError = out
    try python.run()
    // The Python peer's model arrives with its identity and decodes with our codec.
    let inbound = try XCTUnwrap(me.receive(timeout: 10), "no frame from the Python peer")
    XCTAssertEqual(inbound.sender, 9)
    let frame = try inbound.bytes.withUnsafeBytes { try WireCodec.decode($0) }
    XCTAssertEqual(frame.header.round, 7)
    XCTAssertEqual(frame.payload, [0, 0, 0, 0x3F, 0, 0, 0xC0, 0xBF, 0, 0, 0x10, 0x40])
    // And ours decodes in Python.
    try me.connect(to: 9, endpoint: "tcp://127.0.0.1:\(pyPort)")
    var h = WireHeader(kind: .model, sender: 4)
    h.encoding = .rawFloat32
    h.round = 8
    h.parameterCount = 2
    h.elementCount = 2
    XCTAssertTrue(me.send(WireCodec.encode(header: h, payload: [0, 0, 0x80, 0x3F, 0, 0, 0x20, 0x41]), to: 9))
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    python.waitUntilExit()
    XCTAssertEqual(python.terminationStatus, 0, text)
    XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), "ok 4 8 1 10")
  }
}
