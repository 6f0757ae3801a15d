import CZeroMQ
import Foundation
import Numerics
import XCTest

@testable import Transport

/// CURVE with the ZAP handler: only listed keys, each under its own uid, get a frame in.
final class CurveSecurityTests: XCTestCase {
  func keys(_ n: Int) throws -> [CurveKeyPair] { try (0..<n).map { _ in try CurveKeyPair.generate() } }

  func receive(_ t: ZMQTransport, within seconds: Double = 2) -> InboundMessage? {
    let deadline = MonotonicClock.now() + seconds
    while MonotonicClock.now() < deadline {
      if let m = try? t.receive(timeout: 0.05) { return m }
    }
    return nil
  }

  func testZ85KeysRoundTrip() throws {
    let pair = try CurveKeyPair.generate()
    XCTAssertEqual(pair.publicKey.utf8.count, 40)
    XCTAssertEqual(Z85.decode(pair.publicKey)?.count, 32)
    XCTAssertEqual(CurveKeyPair.publicKey(forSecret: pair.secretKey), pair.publicKey)
    XCTAssertNil(Z85.decode("short"))
    XCTAssertNil(CurveKeyPair.publicKey(forSecret: String(repeating: "~", count: 40)))
  }

  func testListedPeersTalkEncrypted() throws {
    let k = try keys(2)
    let listed = [0: k[0].publicKey, 1: k[1].publicKey]
    let server = try ZMQTransport(uid: 0, bindEndpoint: "tcp://127.0.0.1:*", security: .curve(own: k[0], peers: listed))
    defer { server.close() }
    let client = try ZMQTransport(
      uid: 1, bindEndpoint: "tcp://127.0.0.1:*", addresses: [0: server.boundEndpoint],
      security: .curve(own: k[1], peers: listed))
    defer { client.close() }
    XCTAssertTrue(client.send([9, 8, 7], to: 0))
    let m = try XCTUnwrap(receive(server))
    XCTAssertEqual(m.sender, 1)
    XCTAssertEqual(m.bytes, [9, 8, 7])
  }

  /// A raw DEALER with the given identity and, optionally, a CURVE key; sends one byte.
  func attack(_ server: ZMQTransport, identity: String, clientKey: CurveKeyPair?, serverKey: String?) {
    let ctx = zmq_ctx_new()!
    let d = zmq_socket(ctx, ZMQ_DEALER)!
    let id = Array(identity.utf8)
    _ = id.withUnsafeBytes { zmq_setsockopt(d, ZMQ_ROUTING_ID, $0.baseAddress, $0.count) }
    var linger: Int32 = 0
    zmq_setsockopt(d, ZMQ_LINGER, &linger, 4)
    if let clientKey, let serverKey {
      _ = serverKey.withCString { zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, $0, 41) }
      _ = clientKey.publicKey.withCString { zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, $0, 41) }
      _ = clientKey.secretKey.withCString { zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, $0, 41) }
    }
    zmq_connect(d, server.boundEndpoint)
    var byte: UInt8 = 1
    zmq_send(d, &byte, 1, ZMQ_DONTWAIT)
    // Let the handshake run against the server's loop, then give up.
    let deadline = MonotonicClock.now() + 1
    while MonotonicClock.now() < deadline { _ = try? server.receive(timeout: 0.05) }
    zmq_close(d)
    zmq_ctx_term(ctx)
  }

  func testUnlistedPlaintextAndImpostorClientsGetNoFrameIn() throws {
    let k = try keys(3)
    let stranger = try CurveKeyPair.generate()
    let listed = [0: k[0].publicKey, 1: k[1].publicKey, 2: k[2].publicKey]
    let server = try ZMQTransport(uid: 0, bindEndpoint: "tcp://127.0.0.1:*", security: .curve(own: k[0], peers: listed))
    defer { server.close() }
    attack(server, identity: "1", clientKey: nil, serverKey: nil)  // plaintext
    attack(server, identity: "1", clientKey: stranger, serverKey: k[0].publicKey)  // unlisted key
    attack(server, identity: "1", clientKey: k[2], serverKey: k[0].publicKey)  // uid 2's key as uid 1
    XCTAssertNil(receive(server, within: 0.3), "no attacker frame may arrive")
    XCTAssertEqual(server.drops["security: unknown CURVE key"], 1)
    XCTAssertEqual(server.drops["security: frame under another uid than its key's"], 1)
    XCTAssertGreaterThanOrEqual(
      server.drops["connection: handshake failed (another protocol or security mechanism)", default: 0]
        + server.drops["connection: refused by authentication", default: 0], 1)
    // The honest uid 1 still gets through afterwards.
    let honest = try ZMQTransport(
      uid: 1, bindEndpoint: "tcp://127.0.0.1:*", addresses: [0: server.boundEndpoint],
      security: .curve(own: k[1], peers: listed))
    defer { honest.close() }
    XCTAssertTrue(honest.send([5], to: 0))
    XCTAssertEqual(receive(server)?.sender, 1)
  }

  func testAPeerWithoutAListedKeyCannotBeConnectedTo() throws {
    let k = try keys(1)
    let t = try ZMQTransport(
      uid: 0, bindEndpoint: "tcp://127.0.0.1:*", addresses: [1: "tcp://127.0.0.1:1"],
      security: .curve(own: k[0], peers: [0: k[0].publicKey]))
    defer { t.close() }
    XCTAssertFalse(t.send([1], to: 1))
  }
}
