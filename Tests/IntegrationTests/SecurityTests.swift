import CZeroMQ
import Foundation
import Learning
import Transport
import XCTest

/// CURVE between real processes: only listed keys take part, each under its own uid.
final class SecurityTests: XCTestCase {
  /// The frame that once cut an edge: a BYE claiming to be node 1.
  func forgedBye(from uid: UInt32) -> [UInt8] {
    var h = WireHeader(kind: .bye, sender: uid)
    h.parameterCount = 610
    return WireCodec.encode(header: h, payload: [])
  }

  /// Sends `frame` to `endpoint` as identity `identity`, optionally with a CURVE key, for a while.
  func attack(endpoint: String, identity: String, key: CurveKeyPair?, serverKey: String?, frame: [UInt8]) {
    let ctx = zmq_ctx_new()!
    let d = zmq_socket(ctx, ZMQ_DEALER)!
    let id = Array(identity.utf8)
    _ = id.withUnsafeBytes { zmq_setsockopt(d, ZMQ_ROUTING_ID, $0.baseAddress, $0.count) }
    var linger: Int32 = 0
    zmq_setsockopt(d, ZMQ_LINGER, &linger, 4)
    if let key, let serverKey {
      _ = serverKey.withCString { zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, $0, 41) }
      _ = key.publicKey.withCString { zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, $0, 41) }
      _ = key.secretKey.withCString { zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, $0, 41) }
    }
    zmq_connect(d, endpoint)
    for _ in 0..<20 {
      _ = frame.withUnsafeBytes { zmq_send(d, $0.baseAddress, $0.count, ZMQ_DONTWAIT) }
      Thread.sleep(forTimeInterval: 0.05)
    }
    zmq_close(d)
    zmq_ctx_term(ctx)
  }

  func testWithCurveOnlyListedKeysGetAFrameInAndAForgedByeDoesNothing() throws {
    let h = try ClusterHarness(
      nodes: 4, degree: 3,
      config: testConfig(
        dataset: "Synthetic", model: "LogisticRegression", iterations: 80, testAfter: 80, peerTimeout: 3)
        + "\nstep_pause = 0.01\n")
    let keys = h.dir + "/keys"
    let made = try ClusterHarness.run(try ClusterHarness.binary("peerctl"), ["keys", "--nodes", "4", "-o", keys])
    XCTAssertEqual(made.status, 0, made.output)
    var config = try String(contentsOfFile: h.dir + "/config.ini", encoding: .utf8)
    config = config.replacingOccurrences(
      of: "[COMMUNICATION]\n", with: "[COMMUNICATION]\nsecurity = curve\ncurve_keys = \(keys)\n")
    try config.write(toFile: h.dir + "/config.ini", atomically: true, encoding: .utf8)
    let publicKeys = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: keys + "/public_keys.json")))
        as? [String: String])
    let secret2 = try String(contentsOfFile: keys + "/2.key", encoding: .utf8).trimmingCharacters(
      in: .whitespacesAndNewlines)
    let stolen = CurveKeyPair(publicKey: publicKeys["2"]!, secretKey: secret2)

    let processes = try h.start()
    XCTAssertTrue(h.poll { h.lastRound(0) >= 10 })
    let node0 = "tcp://127.0.0.1:\(h.basePort)"
    attack(endpoint: node0, identity: "1", key: nil, serverKey: nil, frame: forgedBye(from: 1))
    attack(
      endpoint: node0, identity: "1", key: try CurveKeyPair.generate(), serverKey: publicKeys["0"],
      frame: forgedBye(from: 1))
    attack(endpoint: node0, identity: "1", key: stolen, serverKey: publicKeys["0"], frame: forgedBye(from: 1))
    XCTAssertEqual(h.wait(processes, timeout: 120), [0, 0, 0, 0], h.output(0))

    let r = try h.record(0)
    XCTAssertEqual(r.peerEvents, [], "the forged BYEs reached node 0")
    for round in r.mixedWith.rounds { XCTAssertEqual(r.mixedWith[round], [1, 2, 3], "round \(round)") }
    XCTAssertGreaterThanOrEqual(r.rejectedFrames["transport: security: unknown CURVE key", default: 0], 1)
    // The stolen key under identity "1" never gets a frame in: node 1 holds that identity, and
    // with CURVE the ROUTER refuses a second connection under it (the User-Id check behind it is
    // exercised in CurveSecurityTests).
    XCTAssertFalse(h.output(0).contains("plaintext on"), "no plaintext warning with CURVE")
  }

  /// Without CURVE the same BYE is believed (for a moment: node 1's next frame brings it back):
  /// the test above would fail on a plaintext cluster.
  func testWithoutCurveAForgedByeIsBelieved() throws {
    let h = try ClusterHarness(
      nodes: 4, degree: 3,
      config: testConfig(
        dataset: "Synthetic", model: "LogisticRegression", iterations: 80, testAfter: 80, peerTimeout: 3)
        + "\nstep_pause = 0.01\n")
    let processes = try h.start()
    XCTAssertTrue(h.poll { h.lastRound(0) >= 10 })
    attack(
      endpoint: "tcp://127.0.0.1:\(h.basePort)", identity: "1", key: nil, serverKey: nil, frame: forgedBye(from: 1))
    XCTAssertEqual(h.wait(processes, timeout: 120), [0, 0, 0, 0])
    XCTAssertTrue(try h.record(0).peerEvents.contains { $0.kind == .departed && $0.peer == 1 })
  }

  func testMissingOrForeignKeysAreBadInput() throws {
    let h = try ClusterHarness(
      nodes: 2, degree: 1,
      config: testConfig(dataset: "Synthetic", model: "LogisticRegression", iterations: 2, testAfter: 1))
    let peerctl = try ClusterHarness.binary("peerctl")
    XCTAssertEqual(try ClusterHarness.run(peerctl, ["keys", "--nodes", "2", "-o", h.dir + "/keys"]).status, 0)
    let again = try ClusterHarness.run(peerctl, ["keys", "--nodes", "2", "-o", h.dir + "/keys"])
    XCTAssertNotEqual(again.status, 0)
    XCTAssertTrue(again.output.contains("never overwritten"), again.output)
    try FileManager.default.removeItem(atPath: h.dir + "/keys/1.key")
    var config = try String(contentsOfFile: h.dir + "/config.ini", encoding: .utf8)
    config = config.replacingOccurrences(
      of: "[COMMUNICATION]\n", with: "[COMMUNICATION]\nsecurity = curve\ncurve_keys = \(h.dir)/keys\n")
    try config.write(toFile: h.dir + "/config.ini", atomically: true, encoding: .utf8)
    let run = try ClusterHarness.run(
      try ClusterHarness.binary("peerd"),
      [
        "--uid", "1", "--config", h.dir + "/config.ini", "--graph", h.dir + "/graph.txt", "--ip", h.dir + "/ip.json",
        "--log-dir", h.dir,
      ])
    XCTAssertEqual(run.status, 2)
    XCTAssertTrue(run.output.contains("1.key: no secret key for node 1"), run.output)
  }
}
