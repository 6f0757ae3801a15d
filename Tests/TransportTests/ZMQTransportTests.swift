import CZeroMQ
import Foundation
import Numerics
import XCTest

@testable import Transport

/// Real ZeroMQ over loopback TCP.
final class ZMQTransportTests: XCTestCase {
  func receive(_ t: ZMQTransport, within seconds: Double = 5) -> InboundMessage? {
    try? t.receive(timeout: seconds)
  }

  func testMessagesArriveWithSenderIdentity() throws {
    let a = try ZMQTransport(uid: 1, bindEndpoint: "tcp://127.0.0.1:*")
    let b = try ZMQTransport(uid: 2, bindEndpoint: "tcp://127.0.0.1:*")
    defer {
      a.close()
      b.close()
    }
    XCTAssertTrue(a.boundEndpoint.hasPrefix("tcp://127.0.0.1:"))
    try a.connect(to: 2, endpoint: b.boundEndpoint)
    try b.connect(to: 1, endpoint: a.boundEndpoint)
    XCTAssertTrue(a.send([1, 2, 3], to: 2))
    let m = try XCTUnwrap(receive(b))
    XCTAssertEqual(m.sender, 1)
    XCTAssertEqual(m.bytes, [1, 2, 3])
    // 4 MB arrives intact.
    var rng = Xoshiro256(seed: 1)
    let big = (0..<(4 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    XCTAssertTrue(b.send(big, to: 1))
    let got = try XCTUnwrap(receive(a))
    XCTAssertEqual(got.sender, 2)
    XCTAssertEqual(got.bytes, big)
  }

  /// A large frame is queued to several peers in place: each receives the same bytes, and the
  /// sender's buffer is released exactly once, after ZeroMQ has written every copy. A received
  /// frame stays in ZeroMQ's buffer and is released when the last reference goes.
  func testZeroCopyFramesAreSharedAndReleasedOnce() throws {
    let a = try ZMQTransport(uid: 1, bindEndpoint: "tcp://127.0.0.1:*")
    let peers = try (2...4).map { try ZMQTransport(uid: $0, bindEndpoint: "tcp://127.0.0.1:*") }
    defer {
      a.close()
      for p in peers { p.close() }
    }
    for p in peers { try a.connect(to: p.localUID, endpoint: p.boundEndpoint) }
    let count = 1 << 20
    XCTAssertGreaterThanOrEqual(count, ZMQTransport.zeroCopyThreshold)
    let memory = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
    for i in 0..<count { memory.storeBytes(of: UInt8(truncatingIfNeeded: i &* 31), toByteOffset: i, as: UInt8.self) }
    let releases = Counter()
    let address = UInt(bitPattern: memory)
    var frame: SharedBytes? = SharedBytes(borrowing: UnsafeRawPointer(memory), count: count) {
      releases.increment()
      UnsafeMutableRawPointer(bitPattern: address)?.deallocate()
    }
    let expected = frame!.array
    for p in peers { XCTAssertTrue(a.send(frame!, to: p.localUID)) }
    frame = nil  // ZeroMQ holds the only references now
    var received: [InboundMessage] = []
    for p in peers {
      let m = try XCTUnwrap(receive(p))
      XCTAssertEqual(m.sender, 1)
      XCTAssertEqual(m.frame.count, count)
      XCTAssertTrue(m.frame.bytes.elementsEqual(expected))
      received.append(m)
    }
    let deadline = MonotonicClock.now() + 5
    while releases.value == 0 && MonotonicClock.now() < deadline { usleep(1000) }
    XCTAssertEqual(releases.value, 1)
    XCTAssertEqual(received.count, 3)
  }

  func testReceiveTimesOutWhenNothingComes() throws {
    let a = try ZMQTransport(uid: 1, bindEndpoint: "tcp://127.0.0.1:*")
    defer { a.close() }
    let start = MonotonicClock.now()
    XCTAssertNil(try a.receive(timeout: 0.2))
    XCTAssertGreaterThanOrEqual(MonotonicClock.now() - start, 0.19)
    XCTAssertNil(try a.receive(timeout: 0))
    a.close()
    XCTAssertThrowsError(try a.receive(timeout: 0)) { XCTAssertEqual($0 as? TransportError, .closed) }
  }

  func testSendingToAbsentPeerNeverBlocks() throws {
    let a = try ZMQTransport(uid: 1, bindEndpoint: "tcp://127.0.0.1:*", sendQueueLimit: 4)
    defer { a.close() }
    // Nobody listens on this port; the queue fills, then sends fail instead of blocking.
    try a.connect(to: 9, endpoint: "tcp://127.0.0.1:1")
    var failures = 0
    for _ in 0..<100 where !a.send([UInt8](repeating: 0, count: 1000), to: 9) { failures += 1 }
    XCTAssertGreaterThan(failures, 0)
    XCTAssertFalse(a.send([1], to: 12345), "unknown peer must fail, not crash")
  }

  func testBindConflictIsAClearError() throws {
    let a = try ZMQTransport(uid: 1, bindEndpoint: "tcp://127.0.0.1:*")
    defer { a.close() }
    XCTAssertThrowsError(try ZMQTransport(uid: 2, bindEndpoint: a.boundEndpoint)) { error in
      XCTAssertTrue("\(error)".contains("cannot bind"), "\(error)")
    }
  }

  func testRestartedPeerWithSameIdentityIsHeardAgain() throws {
    let server = try ZMQTransport(uid: 1, bindEndpoint: "tcp://127.0.0.1:*")
    defer { server.close() }
    var client: ZMQTransport? = try ZMQTransport(
      uid: 2, bindEndpoint: "tcp://127.0.0.1:*", closeLingerMilliseconds: 100)
    try client!.connect(to: 1, endpoint: server.boundEndpoint)
    XCTAssertTrue(client!.send([1], to: 1))
    XCTAssertEqual(receive(server)?.bytes, [1])
    client!.close()
    client = nil
    let again = try ZMQTransport(uid: 2, bindEndpoint: "tcp://127.0.0.1:*")
    defer { again.close() }
    try again.connect(to: 1, endpoint: server.boundEndpoint)
    XCTAssertTrue(again.send([2], to: 1))
    let m = receive(server)
    XCTAssertEqual(m?.sender, 2)
    XCTAssertEqual(m?.bytes, [2])
  }

  func testIdentitiesAreUidsInOneSpellingOnly() {
    XCTAssertNil(ZMQTransport.parseIdentity(Array("abc".utf8)))
    XCTAssertNil(ZMQTransport.parseIdentity(Array("99999999999".utf8)))
    XCTAssertNil(ZMQTransport.parseIdentity(Array("007".utf8)), "a leading zero would give uid 7 a second name")
    XCTAssertNil(ZMQTransport.parseIdentity([]))
    XCTAssertEqual(ZMQTransport.parseIdentity(Array("0".utf8)), 0)
    XCTAssertEqual(ZMQTransport.parseIdentity(Array("42".utf8)), 42)
  }

  /// The first send to a uid of the address book opens its connection; a uid with no address
  /// fails without crashing; `disconnect` closes it and the next send reopens.
  func testConnectionsOpenOnDemand() throws {
    let b = try ZMQTransport(uid: 2, bindEndpoint: "tcp://127.0.0.1:*")
    defer { b.close() }
    let a = try ZMQTransport(uid: 1, bindEndpoint: "tcp://127.0.0.1:*", addresses: [2: b.boundEndpoint])
    defer { a.close() }
    XCTAssertEqual(a.connectedPeers, [])
    XCTAssertTrue(a.send([7], to: 2))
    XCTAssertEqual(a.connectedPeers, [2])
    XCTAssertEqual(receive(b)?.bytes, [7])
    XCTAssertFalse(a.send([8], to: 3), "no address for uid 3")
    a.disconnect(2)
    XCTAssertEqual(a.connectedPeers, [])
    XCTAssertTrue(a.send([9], to: 2))
    XCTAssertEqual(receive(b)?.bytes, [9])
  }

  /// Frames with a foreign routing identity or more than one part never reach the node; they
  /// are counted by reason.
  func testStrayFramesAreDroppedAndCounted() throws {
    let server = try ZMQTransport(uid: 1, bindEndpoint: "tcp://127.0.0.1:*")
    defer { server.close() }
    let ctx = zmq_ctx_new()!
    defer { zmq_ctx_term(ctx) }
    func rawDealer(identity: String) -> UnsafeMutableRawPointer {
      let d = zmq_socket(ctx, ZMQ_DEALER)!
      let id = Array(identity.utf8)
      _ = id.withUnsafeBytes { zmq_setsockopt(d, ZMQ_ROUTING_ID, $0.baseAddress, $0.count) }
      var linger: Int32 = 0
      zmq_setsockopt(d, ZMQ_LINGER, &linger, 4)
      zmq_connect(d, server.boundEndpoint)
      return d
    }
    let stranger = rawDealer(identity: "007")
    let multi = rawDealer(identity: "5")
    defer {
      zmq_close(stranger)
      zmq_close(multi)
    }
    var byte: UInt8 = 1
    zmq_send(stranger, &byte, 1, 0)
    zmq_send(multi, &byte, 1, ZMQ_SNDMORE)
    zmq_send(multi, &byte, 1, 0)
    let honest = rawDealer(identity: "6")
    defer { zmq_close(honest) }
    Thread.sleep(forTimeInterval: 0.2)
    zmq_send(honest, &byte, 1, 0)
    let m = receive(server)
    XCTAssertEqual(m?.sender, 6)
    XCTAssertEqual(server.drops["routing identity that is not a uid"], 1)
    XCTAssertEqual(server.drops["multi-part message"], 1)
  }
}

/// A thread-safe counter: ZeroMQ releases frames on its I/O thread.
final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  func increment() {
    lock.lock()
    count += 1
    lock.unlock()
  }
  var value: Int {
    lock.lock()
    defer { lock.unlock() }
    return count
  }
}
