import Foundation
import Numerics
import Sharing
import Topology
import Transport
import XCTest

@testable import Learning

/// Admission, buffering bounds and bad frames: what reaches an average, and what a bad frame costs.
final class EmbeddedAdmissionTests: XCTestCase {
  func graph() throws -> Graph {
    var rng = Xoshiro256(seed: 3)
    return try Graph.regular(nodes: 8, degree: 4, rng: &rng)
  }

  /// A valid dense MODEL frame from `sender` for `round`, every value `value`.
  func modelFrame(from sender: Int, round: Int, parameters: Int, value: Float) -> [UInt8] {
    var h = WireHeader(kind: .model, sender: UInt32(sender))
    h.encoding = .rawFloat32
    h.round = UInt64(round)
    h.degree = 4
    h.parameterCount = UInt32(parameters)
    h.elementCount = UInt32(parameters)
    let payload = [Float](repeating: value, count: parameters).withUnsafeBytes { Array($0) }
    return WireCodec.encode(header: h, payload: payload)
  }

  func cleanParameters(_ g: Graph) throws -> [Int: [Float]] {
    let c = try EmbeddedCluster(graph: g)
    c.startAll()
    c.run()
    return Dictionary(uniqueKeysWithValues: (0..<8).map { ($0, c.finish($0)!.parameters) })
  }

  /// Valid, poisoned MODEL frames from a uid in no graph (999) and from a node that is not a
  /// neighbour reach node 0 every round: none is averaged (the models end bit-identical to a
  /// clean run), each is counted, and each sender is logged once.
  func testModelsFromSendersNotAdmittedAreNeverAveraged() throws {
    let g = try graph()
    let clean = try cleanParameters(g)
    let c = try EmbeddedCluster(graph: g)
    let p = try c.parameterCount()
    let stranger = (0..<8).first { $0 != 0 && !g.neighbours(of: 0).contains($0) }!
    for round in 1...20 {
      let t = Double(round) * 0.1 - 0.05
      c.network.inject(modelFrame(from: 999, round: round, parameters: p, value: 1e6), from: 999, to: 0, at: t)
      c.network.inject(
        modelFrame(from: stranger, round: round, parameters: p, value: -1e6), from: stranger, to: 0, at: t)
    }
    c.startAll()
    c.run()
    let f = try XCTUnwrap(c.finish(0))
    XCTAssertEqual(f.parameters.map(\.bitPattern), clean[0]!.map(\.bitPattern))
    XCTAssertEqual(f.rejected["model from a sender not admitted"], 40)
    let warnings = c.logs[0]!.warnings.filter { $0.contains("does not take models from") }
    XCTAssertEqual(warnings.count, 2, "\(warnings)")
  }

  /// 8,000 far-future frames from a neighbour's identity are dropped at the buffering bound:
  /// memory stays within it and the run is unchanged.
  func testFarFutureFloodStaysWithinTheBufferBound() throws {
    let g = try graph()
    let clean = try cleanParameters(g)
    let c = try EmbeddedCluster(graph: g)
    let p = try c.parameterCount()
    let neighbour = g.neighbours(of: 0)[0]
    for i in 0..<8000 {
      c.network.inject(
        modelFrame(from: neighbour, round: 1000 + i, parameters: p, value: 3), from: neighbour, to: 0, at: 0.05)
    }
    c.startAll()
    c.run()
    let f = try XCTUnwrap(c.finish(0))
    XCTAssertEqual(f.rejected["beyond the buffering bound"], 8000)
    XCTAssertLessThanOrEqual(f.mailboxBytes, f.mailboxLimit)
    XCTAssertEqual(f.parameters.map(\.bitPattern), clean[0]!.map(\.bitPattern))
  }

  /// A neighbour whose round-3 share carries a NaN (an indexed share the codec rejects whole):
  /// that one frame is lost, the sender is never marked down, and it is mixed again from round 4.
  func testOneRejectedFrameCostsThatFrameNeverTheLink() throws {
    let g = try graph()
    let c = try EmbeddedCluster(graph: g)
    let poisoner = g.neighbours(of: 0)[0]
    c.adjustParts = { plan, parts in
      if plan.uid == poisoner { parts.sharing = PoisonRound(3) }
    }
    c.startAll()
    c.run()
    for uid in g.neighbours(of: poisoner) {
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertEqual(f.results.peerEvents, [], "node \(uid)")
      XCTAssertEqual(f.rejected["bad share: non-finite value"], 1, "node \(uid)")
      XCTAssertEqual(f.results.mixedWith[3]?.contains(poisoner), false)
      for r in 4...20 { XCTAssertEqual(f.results.mixedWith[r], g.neighbours(of: uid), "node \(uid) round \(r)") }
    }
  }

  /// One node ends the run with STOP; every other node stops too, within a few rounds.
  func testStopEndsTheRunForEveryone() throws {
    let c = try EmbeddedCluster(graph: try graph()) { $0.iterations = 1000 }
    c.adjustParts = { plan, parts in
      if plan.uid == 2 { parts.algorithm = StopAfter(rounds: 5) }
    }
    c.startAll()
    let end = c.run()
    XCTAssertLessThan(end, 2)
    for uid in 0..<8 {
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertEqual(f.outcome, .completed, "node \(uid)")
      XCTAssertLessThanOrEqual(f.results.roundsCompleted, 7, "node \(uid)")
    }
  }
}

/// Full sharing, except that round `round`'s share is a sparse one holding a NaN.
final class PoisonRound: SharingStrategy {
  let name = "Sharing"
  let round: Int
  init(_ round: Int) { self.round = round }
  func makeShares(of parameters: FloatBuffer, round: Int, recipients: [Int]) -> [OutgoingShare] {
    guard round == self.round else {
      return [OutgoingShare(share: Share(dense: parameters.array), recipients: recipients)]
    }
    var values = Array(parameters.array.prefix(4))
    values[1] = .nan
    return [
      OutgoingShare(
        share: Share(indices: [0, 1, 2, 3], values: values, parameterCount: parameters.count), recipients: recipients)
    ]
  }
  func checkpointState() -> [UInt8] { [] }
  func restoreState(_ bytes: [UInt8]) throws(SharingError) {}
}

/// D-PSGD that ends the whole run after `rounds` rounds.
final class StopAfter: Algorithm {
  let inner = DPSGD()
  let rounds: Int
  init(rounds: Int) { self.rounds = rounds }
  var policy: RuntimePolicy { inner.policy }
  func step(_ ctx: any AlgorithmContext) throws -> Bool {
    guard try inner.step(ctx) else { return false }
    if ctx.round >= rounds {
      ctx.stopRun()
      return false
    }
    return true
  }
}
