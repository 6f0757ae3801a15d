import Foundation
import Numerics
import Sharing
import Transport
import XCTest

@testable import Learning

/// The runtime's small parts on their own: liveness arithmetic, the mailbox's bounds, the
/// checkpoint container.
final class RuntimeUnitTests: XCTestCase {
  func testSilenceCountsFromWhenAPeerWasLastHeard() {
    var t = PeerTable(neighbours: [1, 2], heartbeatPeers: [], peerTimeout: 3, startTimeout: 10, now: 0)
    t.heard(1, at: 5, round: 2, degree: 2)
    // Awaited since 7: a heartbeat peer is judged by when it was heard (5), not by the wait.
    XCTAssertFalse(t.isOverdue(1, now: 7.9, awaitedSince: 7))
    XCTAssertTrue(t.isOverdue(1, now: 8.1, awaitedSince: 7))
    // Never heard: start_timeout from this node's start, and at least peer_timeout of waiting.
    XCTAssertFalse(t.isOverdue(2, now: 9, awaitedSince: 0))
    XCTAssertTrue(t.isOverdue(2, now: 10.5, awaitedSince: 0))
    XCTAssertFalse(t.isOverdue(2, now: 10.5, awaitedSince: 9))
    // A peer outside the heartbeat set is given the benefit of the wait.
    t.track(7)
    t.heard(7, at: 1, round: 1, degree: 0)
    XCTAssertFalse(t.isOverdue(7, now: 20, awaitedSince: 18))
    XCTAssertTrue(t.isOverdue(7, now: 21.5, awaitedSince: 18))
  }

  func testDownPeersAreProbedWithBackoffAndComeBackOnAnyFrame() {
    var t = PeerTable(neighbours: [1], heartbeatPeers: [], peerTimeout: 3, startTimeout: 10, now: 0)
    t.markDown(1, at: 10)
    var probes: [Double] = []
    var now = 10.0
    while now < 30 {
      if !t.probesDue(now: now).isEmpty { probes.append(now) }
      now += 0.25
    }
    // 0.5, 1, 2, then capped at peer_timeout (3): 10, 10.5, 11.5, 13.5, 16.5, 19.5, …
    XCTAssertEqual(Array(probes.prefix(6)), [10, 10.5, 11.5, 13.5, 16.5, 19.5])
    XCTAssertFalse(t.isLive(1))
    XCTAssertTrue(t.heard(1, at: 30, round: 9, degree: 4), "a frame brings it back up")
    XCTAssertTrue(t.isLive(1))
    XCTAssertEqual(t.peer(1)?.round, 9)
    XCTAssertEqual(t.probesDue(now: 31), [])
  }

  func message(_ sender: Int, round: Int, age: UInt64 = 0, bytes: Int = 100) -> ModelMessage {
    ModelMessage(sender: sender, round: round, degree: 1, age: age, share: Share(dense: [1]), frameBytes: bytes)
  }

  func testRoundMailboxKeepsOnePerSenderAndRoundWithinItsBounds() {
    let box = Mailbox(mode: .rounds(ahead: 2), byteLimit: 500)
    XCTAssertEqual(box.offer(message(1, round: 1)), .kept)
    XCTAssertEqual(box.offer(message(1, round: 1)), .replaced)
    XCTAssertEqual(box.offer(message(2, round: 2)), .kept)
    XCTAssertEqual(box.offer(message(2, round: 3)), .beyondBound, "more than 2 rounds past the reference")
    box.reference = 1
    XCTAssertEqual(box.offer(message(2, round: 3)), .kept)
    XCTAssertEqual(box.bytes, 300)
    XCTAssertEqual(box.offer(message(3, round: 3, bytes: 300)), .beyondBound, "over the byte limit")
    box.discard(below: 2)
    XCTAssertEqual(box.offer(message(1, round: 1)), .stale)
    XCTAssertEqual(box.bytes, 200)
    box.markUnusable(sender: 4, round: 2)
    XCTAssertTrue(box.has(4, round: 2))
    XCTAssertFalse(box.has(4, round: 3))
    XCTAssertEqual(box.messages(round: 2).map(\.sender), [2])
  }

  func testLatestPerSenderKeepsTheNewestCounter() {
    let box = Mailbox(mode: .latestPerSender, byteLimit: 1000)
    XCTAssertEqual(box.offer(message(1, round: 5, age: 5)), .kept)
    XCTAssertEqual(box.offer(message(1, round: 4, age: 4)), .stale)
    XCTAssertEqual(box.offer(message(1, round: 7, age: 7)), .replaced)
    XCTAssertEqual(box.latest(from: 1)?.age, 7)
    box.forget(1)
    XCTAssertNil(box.latest(from: 1))
    XCTAssertEqual(box.bytes, 0)
  }

  func testQueueIsFirstInFirstOutAndBounded() {
    let box = Mailbox(mode: .queue, byteLimit: 250)
    XCTAssertEqual(box.offer(message(1, round: 1)), .kept)
    XCTAssertEqual(box.offer(message(2, round: 1)), .kept)
    XCTAssertEqual(box.offer(message(3, round: 1)), .beyondBound)
    XCTAssertEqual(box.take()?.sender, 1)
    XCTAssertEqual(box.offer(message(3, round: 1)), .kept)
    XCTAssertEqual([box.take()?.sender, box.take()?.sender, box.take()?.sender], [2, 3, nil])
  }

  func testCheckpointFileRoundTripsAndRefusesDamage() throws {
    var file = CheckpointFile()
    file["meta"] = Array("{}".utf8)
    file["parameters"] = [1, 2, 3, 4, 5, 6, 7, 8]
    let bytes = file.encoded()
    XCTAssertEqual(try CheckpointFile.decode(bytes, path: "c"), file)
    for cut in [0, 7, 20, bytes.count - 1] {
      XCTAssertThrowsError(try CheckpointFile.decode(Array(bytes.prefix(cut)), path: "c"), "cut at \(cut)")
    }
    for i in [10, 25, bytes.count - 12] {
      var damaged = bytes
      damaged[i] ^= 0x40
      XCTAssertThrowsError(try CheckpointFile.decode(damaged, path: "c")) { error in
        guard case .corrupt = error as? CheckpointError else { return XCTFail("\(error)") }
      }
    }
  }
}
