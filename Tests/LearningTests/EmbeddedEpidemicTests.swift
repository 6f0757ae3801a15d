import Foundation
import Numerics
import Topology
import Transport
import XCTest

@testable import Learning

/// Epidemic Learning (EL-Local) on the embedded network: the seeded schedule, s distinct targets
/// a round drawn from the whole network, receivers waiting for exactly their senders, and a dead
/// sender awaited once.
final class EmbeddedEpidemicTests: XCTestCase {
  /// 10 nodes on a ring: EL ignores the edges for sending, so most targets are non-neighbours.
  func epidemic(_ extra: @escaping (inout NodePlan) -> Void = { _ in }) throws -> EmbeddedCluster {
    try EmbeddedCluster(graph: Graph.ring(nodes: 10)) {
      $0.algorithm = "epidemic"
      $0.algorithmSettings.elFanout = 3
      extra(&$0)
    }
  }

  /// The schedule any node recomputes: node `node`'s targets in `round`, s of the other nodes.
  func targets(of node: Int, round: Int, nodes: Int = 10, s: Int = 3) -> [Int] {
    PeerSchedule(seed: 7).draw(s, from: (0..<nodes).filter { $0 != node }, node: node, round: round).sorted()
  }

  func senders(to node: Int, round: Int) -> [Int] {
    (0..<10).filter { $0 != node && targets(of: $0, round: round).contains(node) }
  }

  /// The draw itself: s distinct nodes other than the sender, the same on every call, and
  /// uniform over the other nodes across rounds.
  func testScheduleIsDistinctSeededAndUniform() throws {
    var counts = [Int](repeating: 0, count: 10)
    for r in 1...3000 {
      let draw = targets(of: 4, round: r)
      XCTAssertEqual(Set(draw).count, 3)
      XCTAssertFalse(draw.contains(4))
      XCTAssertEqual(draw, targets(of: 4, round: r))
      for t in draw { counts[t] += 1 }
    }
    XCTAssertEqual(counts[4], 0)
    // Each of the 9 others is drawn 3/9 of the time: 1000 expected, binomial sd ≈ 26.
    for (uid, n) in counts.enumerated() where uid != 4 { XCTAssertEqual(Double(n), 1000, accuracy: 120, "uid \(uid)") }
    // Another round is another draw.
    XCTAssertNotEqual((1...20).map { targets(of: 9, round: $0) }, (2...21).map { targets(of: 9, round: $0) })
  }

  /// Each node sends to exactly s distinct nodes a round, non-neighbours included, and mixes in
  /// each round with exactly the senders the schedule gives it.
  func testEachRoundGoesToSDistinctNodesAndEachReceiverWaitsForItsSenders() throws {
    let c = try epidemic { $0.iterations = 12 }
    c.startAll()
    c.run()
    let frames = c.network.frames.filter { $0.kind == MessageKind.model.rawValue }
    var nonNeighbours = 0
    for uid in 0..<10 {
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertNil(f.error)
      XCTAssertEqual(f.outcome, .completed)
      let sent = frames.filter { $0.from == uid }
      XCTAssertEqual(sent.count, 3 * 12, "node \(uid)")
      nonNeighbours += sent.filter { !c.graph.neighbours(of: uid).contains($0.to) }.count
      for r in 1...12 {
        XCTAssertEqual(f.results.mixedWith[r], senders(to: uid, round: r), "node \(uid) round \(r)")
      }
      // The recipients over the run are this node's drawn targets, round by round.
      let drawn = (1...12).flatMap { targets(of: uid, round: $0) }.sorted()
      XCTAssertEqual(sent.map(\.to).sorted(), drawn, "node \(uid)")
    }
    XCTAssertGreaterThan(nonNeighbours, 0)
  }

  /// A node killed mid-run is awaited by its scheduled receivers for at most one peer_timeout
  /// (everyone hears its silence at once: every node is a heartbeat peer of every other), then
  /// it is down for all of them; afterwards every survivor mixes with every live sender.
  func testDeadSenderIsAwaitedOnceThenHealedAround() throws {
    let c = try epidemic {
      $0.iterations = 60
      $0.peerTimeout = 1
    }
    c.startAll()
    c.network.kill(7, at: 1.05)
    let end = c.run()
    XCTAssertLessThan(end, 60 * 0.11 + 1 + 1)
    for uid in 0..<10 where uid != 7 {
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertNil(f.error)
      XCTAssertEqual(f.results.roundsCompleted, 60)
      let downs = f.results.peerEvents.filter { $0.kind == .down }
      XCTAssertEqual(downs.map(\.peer), downs.isEmpty ? [] : [7], "node \(uid) marked a live node down")
      let detection = downs.first?.round ?? 0
      for r in f.results.mixedWith.rounds where r > detection + 1 {
        let live = senders(to: uid, round: r).filter { $0 != 7 }
        XCTAssertEqual(f.results.mixedWith[r], live, "node \(uid) round \(r)")
      }
    }
  }
}
