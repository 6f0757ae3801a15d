import Numerics
import XCTest

@testable import Sharing

/// Several Quantize nodes exchanging real encoded payloads, as the runtime would.
final class ChocoCluster {
  let nodes: [Quantize]
  let models: [FloatBuffer]
  let neighbours: [[Int]]
  let aggregator: Aggregator
  /// Refusals seen by receivers, as (receiver, sender, error).
  var refusals: [(Int, Int, SharingError)] = []
  var bytesSent = 0
  var messages = 0

  init(
    neighbours: [[Int]], parameterCount n: Int, bits: Int, alpha: Double = 1, stepSize: Double? = nil, seed: UInt64 = 1
  ) throws {
    self.neighbours = neighbours
    nodes = try neighbours.indices.map { uid in
      var s = SharingSettings(name: "Quantize", alpha: alpha, bits: bits, stepSize: stepSize, uid: uid)
      s.blockSize = 64
      return try Quantize(s, parameterCount: n)
    }
    models = neighbours.indices.map { FloatBuffer(randomVector(n, seed: seed &+ UInt64($0))) }
    aggregator = Aggregator(parameterCount: n)
  }

  /// One round: every node sends to `recipients(i)` (its neighbours by default), frames that
  /// `drop` selects are lost, and every node averages what it received with MH weights.
  func round(
    _ r: Int, recipients: ((Int) -> [Int])? = nil, drop: (_ from: Int, _ to: Int) -> Bool = { _, _ in false }
  ) throws {
    var inbox = [[(sender: Int, share: Share, weight: Double)]](repeating: [], count: nodes.count)
    for i in nodes.indices {
      for group in nodes[i].makeShares(of: models[i], round: r, recipients: recipients?(i) ?? neighbours[i]) {
        let bytes = ShareCodec.encode(group.share)
        for j in group.recipients {
          bytesSent += bytes.count + 64
          messages += 1
          if drop(i, j) { continue }
          let decoded = try decode(bytes, like: group.share)
          do {
            let share = try nodes[j].receive(decoded, from: i)
            inbox[j].append((i, share, 1 / Double(neighbours[j].count + 1)))
          } catch { refusals.append((j, i, error)) }
        }
      }
    }
    for j in nodes.indices {
      _ = nodes[j].average(own: models[j], selfWeight: 0, received: inbox[j], using: aggregator)
    }
  }

  /// Every copy a receiver holds equals, bit for bit, the sender's copy for that receiver.
  func copiesAgree() -> Bool {
    for i in nodes.indices {
      for j in neighbours[i] {
        guard let mine = nodes[i].own.group(of: j)?.copy, let theirs = nodes[j].peers.held[i]?.copy else { continue }
        if !zip(mine.storage, theirs.storage).allSatisfy({ $0.bitPattern == $1.bitPattern }) { return false }
      }
    }
    return true
  }

  func heldCopies() -> Int { nodes.reduce(0) { $0 + $1.peers.held.count } }

  /// Largest distance of a node's model from the mean of all models.
  func spread() -> Float {
    let n = models[0].count
    var worst: Float = 0
    for p in 0..<n {
      let mean = models.reduce(0) { $0 + $1[p] } / Float(models.count)
      for m in models { worst = max(worst, abs(m[p] - mean)) }
    }
    return worst
  }
}

final class ChocoTests: XCTestCase {
  static let ring = (0..<8).map { [($0 + 7) % 8, ($0 + 1) % 8] }
  static let triangle = [[1, 2], [0, 2], [0, 1]]

  /// Sender and receiver apply the same dequantized update, so the copies stay bit-identical,
  /// dense and sparse, at every width, over many rounds of changing models.
  func testCopiesOfSenderAndReceiverStayBitIdentical() throws {
    for bits in [1, 4, 8, 32] {
      for alpha in [1.0, 0.1] {
        let cluster = try ChocoCluster(neighbours: Self.triangle, parameterCount: 3000, bits: bits, alpha: alpha)
        var rng = Xoshiro256(seed: 9)
        for r in 1...60 {
          for m in cluster.models { for p in 0..<m.count { m[p] += rng.uniform(-0.01, 0.01) } }
          try cluster.round(r)
          XCTAssertTrue(cluster.copiesAgree(), "bits \(bits) alpha \(alpha) round \(r)")
        }
        XCTAssertTrue(cluster.refusals.isEmpty)
        XCTAssertEqual(cluster.heldCopies(), 6)
      }
    }
  }

  /// The first share to each recipient is a keyframe, the rest are deltas of the chosen width.
  func testFirstContactIsAKeyframeThenDeltas() throws {
    let q = try Quantize(SharingSettings(name: "Quantize", bits: 1, uid: 0), parameterCount: 100)
    let x = FloatBuffer(randomVector(100, seed: 1))
    let first = q.makeShares(of: x, round: 1, recipients: [2, 1])
    XCTAssertEqual(first.count, 1)
    XCTAssertEqual(first[0].recipients, [1, 2])
    XCTAssertEqual(first[0].share.encoding, .framedDense)
    XCTAssertEqual(first[0].share.publicCopy?.keyframe, true)
    XCTAssertEqual(first[0].share.values, x.array, "a new group's copy is the model itself")
    let second = q.makeShares(of: x, round: 2, recipients: [1, 2])
    XCTAssertEqual(second.count, 1)
    XCTAssertEqual(second[0].share.encoding, .quantized)
    XCTAssertEqual(second[0].share.publicCopy?.base, first[0].share.publicCopy?.sequence)
    // A new recipient gets the updated copy as a keyframe, in its own group of the outgoing list.
    let third = q.makeShares(of: x, round: 3, recipients: [1, 2, 5])
    XCTAssertEqual(third.map(\.recipients), [[1, 2], [5]])
    XCTAssertEqual(third[1].share.publicCopy?.sequence, third[0].share.publicCopy?.sequence)
  }

  /// A lost frame leaves the receiver's copy behind: it refuses the next delta with a typed
  /// error, asks for a resend in its own next share, gets a keyframe, and is in step again.
  func testLostFrameIsRefusedThenHealedByAResend() throws {
    let cluster = try ChocoCluster(neighbours: Self.triangle, parameterCount: 500, bits: 4)
    try cluster.round(1)
    try cluster.round(2, drop: { from, to in from == 0 && to == 1 })
    XCTAssertTrue(cluster.refusals.isEmpty, "a lost frame is silent")
    try cluster.round(3)
    XCTAssertEqual(cluster.refusals.count, 1)
    let (receiver, sender, error) = cluster.refusals[0]
    XCTAssertEqual(receiver, 1)
    XCTAssertEqual(sender, 0)
    guard case .publicCopyOutOfSync(sender: 0, holding: .some, base: _) = error else { return XCTFail("\(error)") }
    XCTAssertEqual(cluster.nodes[1].peers.resendRequests, [0])
    // Round 3's share from 1 carried the request; round 4 brings node 0's keyframe.
    try cluster.round(4)
    XCTAssertEqual(cluster.refusals.count, 1)
    XCTAssertTrue(cluster.nodes[1].peers.resendRequests.isEmpty)
    try cluster.round(5)
    XCTAssertTrue(cluster.copiesAgree())
    XCTAssertEqual(cluster.heldCopies(), 6)
  }

  /// peerReset on both sides of a restart: the survivor refuses deltas until a keyframe and
  /// sends one itself; a restored node sends keyframes to everyone.
  func testPeerResetAndRestoreResynchronise() throws {
    let cluster = try ChocoCluster(neighbours: Self.triangle, parameterCount: 400, bits: 8)
    for r in 1...3 { try cluster.round(r) }
    let saved = cluster.nodes[2].checkpointState()
    try cluster.round(4)
    // Node 2 restarts from its round-3 checkpoint; its neighbours notice and reset it.
    try cluster.nodes[2].restoreState(saved)
    cluster.nodes[0].peerReset(2)
    cluster.nodes[1].peerReset(2)
    let shares = cluster.nodes[2].makeShares(of: cluster.models[2], round: 5, recipients: [0, 1])
    XCTAssertEqual(shares.count, 1)
    XCTAssertEqual(shares[0].share.publicCopy?.keyframe, true)
    XCTAssertEqual(shares[0].share.publicCopy?.resend, [], "its copies are from the checkpoint, stale or not")
    let toTwo = cluster.nodes[0].makeShares(of: cluster.models[0], round: 5, recipients: [1, 2])
    XCTAssertEqual(toTwo.map(\.recipients), [[1], [2]])
    XCTAssertEqual(toTwo[1].share.publicCopy?.keyframe, true)
    XCTAssertEqual(toTwo[0].share.publicCopy?.resend, [2])
  }

  /// A random walk sends to one neighbour at a time: each gets its own copy (up to the limit),
  /// and every pair stays in step.
  func testSendingToSubsetsKeepsACopyPerRecipientGroup() throws {
    let star = [[1, 2, 3], [0], [0], [0]]
    let cluster = try ChocoCluster(neighbours: star, parameterCount: 300, bits: 8)
    var rng = Xoshiro256(seed: 4)
    for r in 1...40 {
      let target = 1 + rng.nextInt(below: 3)
      try cluster.round(r, recipients: { i in i == 0 ? [target] : [0] })
      XCTAssertTrue(cluster.copiesAgree(), "round \(r)")
      XCTAssertLessThanOrEqual(cluster.nodes[0].own.groups.count, 3)
    }
    XCTAssertTrue(cluster.refusals.isEmpty)
    XCTAssertEqual(cluster.nodes[0].own.groups.count, 3)
  }

  /// Without training CHOCO is gossip: on a ring of 8 the models reach consensus at their mean,
  /// with 1 bit a parameter at the default step size, and much faster with 8 bits.
  func testQuantizedGossipReachesConsensusAtTheMean() throws {
    for (bits, rounds, tolerance) in [(8, 60, Float(0.01)), (1, 400, Float(0.02))] {
      let cluster = try ChocoCluster(neighbours: Self.ring, parameterCount: 256, bits: bits)
      let mean = (0..<256).map { p in cluster.models.reduce(0) { $0 + $1[p] } / 8 }
      let start = cluster.spread()
      for r in 1...rounds { try cluster.round(r) }
      XCTAssertLessThan(cluster.spread(), tolerance * start, "bits \(bits): spread \(cluster.spread()) from \(start)")
      for p in 0..<256 {
        let now = cluster.models.reduce(0) { $0 + $1[p] } / 8
        XCTAssertEqual(now, mean[p], accuracy: 0.02, "bits \(bits): mean of parameter \(p) drifted")
      }
    }
  }

  /// A sender this node did not send to this round holds an old copy of it (a random walk sends
  /// to one neighbour a round): its share is compared with the model itself. Node 0 starts at 0
  /// and sends a keyframe to 1 and 2; it trains to 1 and sends only to 2; node 1 (at 4) sends
  /// to it. Float32 deltas, γ = 1, weight ½: x = 1 + ½·(4 − 1) = 2.5. Against node 1's copy of
  /// it (still 0) it would be 1 + ½·(4 − 0) = 3: the training since counted twice.
  func testSenderNotSentToThisRoundIsComparedWithTheModel() throws {
    func node(_ uid: Int) throws -> Quantize {
      try Quantize(SharingSettings(name: "Quantize", bits: 32, uid: uid), parameterCount: 4)
    }
    let zero = try node(0)
    let one = try node(1)
    let x = FloatBuffer([Float](repeating: 0, count: 4))
    _ = zero.makeShares(of: x, round: 1, recipients: [1, 2])
    for i in 0..<4 { x[i] = 1 }
    _ = zero.makeShares(of: x, round: 2, recipients: [2])
    let keyframe = one.makeShares(of: FloatBuffer([Float](repeating: 4, count: 4)), round: 2, recipients: [0])
    let share = try zero.receive(keyframe[0].share, from: 1)
    _ = zero.average(own: x, selfWeight: 0.5, received: [(1, share, 0.5)], using: Aggregator(parameterCount: 4))
    XCTAssertEqual(x.array, [2.5, 2.5, 2.5, 2.5])
    // Sent to this round, its copy is current: the same average.
    let y = FloatBuffer([Float](repeating: 1, count: 4))
    _ = zero.makeShares(of: y, round: 3, recipients: [1, 2])
    _ = zero.average(own: y, selfWeight: 0.5, received: [(1, share, 0.5)], using: Aggregator(parameterCount: 4))
    XCTAssertEqual(y.array, [2.5, 2.5, 2.5, 2.5])
  }

  func testSharesOfAnotherMethodAreRefused() throws {
    let q = try Quantize(SharingSettings(name: "Quantize"), parameterCount: 3)
    XCTAssertThrowsError(try q.receive(Share(dense: [1, 2, 3]), from: 1)) {
      XCTAssertEqual($0 as? SharingError, .unsupportedShare(strategy: "Quantize", encoding: .dense))
    }
    let p = try PartialModel(SharingSettings(name: "PartialModel", alpha: 0.5), initialModel: FloatBuffer(count: 3))
    let tagged = Share(dense: [1, 2, 3]).tagged(PublicCopyTag(base: 0, sequence: 1, keyframe: true))
    XCTAssertThrowsError(try p.receive(tagged, from: 1)) {
      XCTAssertEqual($0 as? SharingError, .unsupportedShare(strategy: "PartialModel", encoding: .framedDense))
    }
  }
}
