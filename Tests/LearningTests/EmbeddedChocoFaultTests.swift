import Foundation
import Numerics
import Topology
import Transport
import XCTest

@testable import Learning
@testable import Sharing

/// CHOCO's public copies (Quantize) through the faults of docs/protocol.md §5, on real nodes of
/// the embedded network: whatever happened, every sender's copy of itself for a neighbour ends
/// bit-identical to that neighbour's copy of the sender, at the same sequence, and the run heals
/// the way full sharing does (the assertions of `EmbeddedLivenessTests`).
final class EmbeddedChocoFaultTests: XCTestCase {
  /// 8 nodes, 4-regular, 40 rounds, 1 s peer timeout.
  func cluster(
    iterations: Int = 40, sharing: SharingSettings = SharingSettings(name: "Quantize", bits: 8),
    _ extra: @escaping (inout NodePlan) -> Void = { _ in }
  ) throws -> EmbeddedCluster {
    var rng = Xoshiro256(seed: 3)
    let graph = try Graph.regular(nodes: 8, degree: 4, rng: &rng)
    return try EmbeddedCluster(graph: graph) {
      $0.iterations = iterations
      $0.peerTimeout = 1
      $0.sharing = sharing
      $0.testAfter = iterations
      extra(&$0)
    }
  }

  /// For every edge i–j of nodes that finished: i's copy of itself as j holds it equals j's copy
  /// of i, bit for bit and at the same sequence.
  func assertCopiesInStep(_ c: EmbeddedCluster, file: StaticString = #filePath, line: UInt = #line) throws {
    var pairs = 0
    for i in 0..<c.graph.nodeCount {
      let sender = try XCTUnwrap(c.finish(i)?.sharing as? Quantize, "node \(i)", file: file, line: line)
      for j in c.graph.neighbours(of: i) {
        let receiver = try XCTUnwrap(c.finish(j)?.sharing as? Quantize, "node \(j)", file: file, line: line)
        // Shares accepted after the last average are applied too.
        receiver.peers.settle()
        let mine = try XCTUnwrap(sender.own.group(of: j), "\(i) keeps no copy for \(j)", file: file, line: line)
        let theirs = try XCTUnwrap(receiver.peers.held[i], "\(j) holds no copy of \(i)", file: file, line: line)
        XCTAssertEqual(mine.sequence, theirs.sequence, "copy of \(i) at \(j)", file: file, line: line)
        XCTAssertEqual(
          mine.copy.array.map(\.bitPattern), theirs.copy.array.map(\.bitPattern), "copy of \(i) at \(j)", file: file,
          line: line)
        XCTAssertEqual(receiver.peers.resendRequests, [], "node \(j) still waits for keyframes", file: file, line: line)
        pairs += 1
      }
    }
    XCTAssertEqual(pairs, c.graph.nodeCount * 4, file: file, line: line)
  }

  /// The CHOCO run mixed exactly as full sharing did through the same fault (on the virtual
  /// clock both runs see the same interleaving; only what a share carries differs): the same
  /// neighbours in every round of every node, the same peers marked down and back, every node
  /// completed and learned. `except` lists (node, round) pairs allowed to differ.
  func assertMixesLikeFullSharing(
    _ choco: EmbeddedCluster, _ full: EmbeddedCluster, except: Set<[Int]> = [], file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    for uid in 0..<choco.graph.nodeCount {
      let f = try XCTUnwrap(choco.finish(uid), "node \(uid) did not finish", file: file, line: line)
      let reference = try XCTUnwrap(full.finish(uid), file: file, line: line)
      XCTAssertNil(f.error, file: file, line: line)
      XCTAssertEqual(f.outcome, .completed, "node \(uid)", file: file, line: line)
      XCTAssertGreaterThan(f.accuracy, 0.75, "node \(uid)", file: file, line: line)
      XCTAssertEqual(choco.finishes(uid).count, full.finishes(uid).count, file: file, line: line)
      XCTAssertEqual(f.results.peerEvents, reference.results.peerEvents, "node \(uid)", file: file, line: line)
      XCTAssertEqual(f.results.mixedWith.rounds, reference.results.mixedWith.rounds, file: file, line: line)
      for r in reference.results.mixedWith.rounds where !except.contains([uid, r]) {
        XCTAssertEqual(
          f.results.mixedWith[r], reference.results.mixedWith[r], "node \(uid) round \(r)", file: file, line: line)
      }
    }
  }

  /// Runs 8-bit CHOCO and full sharing through `fault` (scheduled once every node is started).
  func run(
    _ extra: @escaping (inout NodePlan) -> Void = { _ in }, fault: (EmbeddedCluster) -> Void
  ) throws -> (choco: EmbeddedCluster, full: EmbeddedCluster) {
    func one(_ sharing: SharingSettings) throws -> EmbeddedCluster {
      let c = try cluster(sharing: sharing, extra)
      c.startAll()
      fault(c)
      c.run()
      return c
    }
    return (try one(SharingSettings(name: "Quantize", bits: 8)), try one(SharingSettings(name: "Sharing")))
  }

  func debugLogs(_ c: EmbeddedCluster, _ uids: [Int]) {
    guard ProcessInfo.processInfo.environment["DEBUG_EMBEDDED"] != nil else { return }
    for uid in uids { print("LOG \(uid):\n" + (c.logs[uid]?.all.joined(separator: "\n") ?? "")) }
    for uid in 0..<c.graph.nodeCount {
      print("REJECTED \(uid): \(c.finish(uid)?.rejected ?? [:]) events \(c.finish(uid)?.results.peerEvents ?? [])")
    }
  }

  func testCopiesStayInStepWithoutFaults() throws {
    let (choco, full) = try run { _ in }
    try assertMixesLikeFullSharing(choco, full)
    try assertCopiesInStep(choco)
    for uid in 0..<8 { XCTAssertEqual(choco.finish(uid)?.rejected, [:], "node \(uid)") }
  }

  /// The restarted node holds no copies: its neighbours learn it from its HELLO and re-send it
  /// this round's share as a keyframe, it sends keyframes to all; nothing is refused after it
  /// has joined.
  func testKilledAndRestartedNodeIsResynchronisedByKeyframes() throws {
    let (choco, full) = try run { c in
      c.network.kill(6, at: 1.5)
      c.start(6, at: 3)
    }
    debugLogs(choco, [6, choco.graph.neighbours(of: 6)[0]])
    XCTAssertEqual(choco.finishes(6).count, 2)
    try assertMixesLikeFullSharing(choco, full)
    try assertCopiesInStep(choco)
  }

  /// Nothing is sent to a node while it is down, so its neighbours' copies for it stay as they
  /// were, and it comes back with deltas, not keyframes.
  func testNodePausedPastTheTimeoutComesBackInStep() throws {
    let (choco, full) = try run { $0.network.pause(3, at: 1.2, for: 2.5) }
    debugLogs(choco, [3, choco.graph.neighbours(of: 3)[0]])
    for uid in choco.graph.neighbours(of: 3) {
      XCTAssertEqual(choco.finish(uid)?.results.peerEvents.filter { $0.peer == 3 }.map(\.kind), [.down, .up])
    }
    try assertMixesLikeFullSharing(choco, full)
    try assertCopiesInStep(choco)
    for uid in 0..<8 { XCTAssertNil(choco.finish(uid)?.rejected["share refused: public copy out of sync"]) }
  }

  /// The checkpoint holds the neighbours' copies; restored, they take the deltas that were
  /// queued for the node while it was dead, and the node's own sequence continues past the
  /// checkpoint's, with a keyframe for every neighbour.
  func testResumedNodeRestoresItsCopiesAndResynchronises() throws {
    let (choco, full) = try run({ $0.checkpointEvery = 5 }) { c in
      c.network.kill(1, at: 1.75)
      c.start(1, at: 3, resume: true)
    }
    debugLogs(choco, [1, choco.graph.neighbours(of: 1)[0]])
    let resumed = try XCTUnwrap(choco.finish(1))
    XCTAssertEqual(resumed.results.resumes, 1)
    let restored = try XCTUnwrap(resumed.sharing as? Quantize)
    XCTAssertGreaterThan(restored.own.counter, 1 << 16, "the sequence continued past the checkpoint's")
    try assertMixesLikeFullSharing(choco, full)
    try assertCopiesInStep(choco)
  }

  /// A delta lost on the way: the receiver refuses the sender's next one (it names a state it
  /// does not hold) and asks for a keyframe, which comes the round after. The pair misses that
  /// one round of mixing besides the lost one; nobody is marked down.
  func testALostFrameIsResynchronisedByAKeyframe() throws {
    var pair = (sender: 0, receiver: 0)
    let (choco, full) = try run { c in
      pair = (2, c.graph.neighbours(of: 2)[0])
      c.loses = { from, to, header in
        from == pair.sender && to == pair.receiver && header.kind == .model && header.round == 20
      }
    }
    debugLogs(choco, [pair.sender, pair.receiver])
    XCTAssertEqual(full.finish(pair.receiver)?.results.mixedWith[20]?.contains(pair.sender), false)
    XCTAssertEqual(choco.finish(pair.receiver)?.results.mixedWith[21]?.contains(pair.sender), false)
    try assertMixesLikeFullSharing(choco, full, except: [[pair.receiver, 21]])
    XCTAssertEqual(choco.finish(pair.receiver)?.rejected, ["share refused: public copy out of sync": 1])
    try assertCopiesInStep(choco)
  }

  /// A delta that could not be queued for the whole of its round (the receiver's queue stayed
  /// full) never left the node: its next share to that receiver is a keyframe, so the pair
  /// misses only that round, as with full sharing.
  func testAShareThatCouldNotBeQueuedIsFollowedByAKeyframe() throws {
    var pair = (sender: 0, receiver: 0)
    let (choco, full) = try run { c in
      pair = (5, c.graph.neighbours(of: 5)[1])
      c.refuses = { from, to, header in
        from == pair.sender && to == pair.receiver && header.kind == .model && header.round == 25
      }
    }
    debugLogs(choco, [pair.sender, pair.receiver])
    XCTAssertEqual(full.finish(pair.receiver)?.results.mixedWith[25]?.contains(pair.sender), false)
    try assertMixesLikeFullSharing(choco, full)
    XCTAssertEqual(choco.finish(pair.receiver)?.rejected, [:])
    try assertCopiesInStep(choco)
  }
}
