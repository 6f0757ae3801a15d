import Foundation
import Learning
import XCTest

/// RWM with real processes: one model per iteration (a quarter of D-PSGD's traffic on a
/// 4-regular graph), learning, and a walk that survives a killed node.
final class RandomWalkClusterTests: XCTestCase {
  static let iterations = Int(ProcessInfo.processInfo.environment["PEERD_RWM_ITERATIONS"] ?? "") ?? 100

  /// 16 nodes, MNIST: every node sends exactly one model per iteration it started (one per
  /// completed iteration, and one for the iteration STOP interrupted), so a cluster iteration
  /// costs one model per node where D-PSGD sends one per neighbour; the first node to reach the
  /// iteration count ends the run, and the nodes' own final models average ≥ 87 %.
  func testOneModelPerIterationAQuarterOfDPSGDsBytesAndLearns() throws {
    let n = AlgorithmRuns.nodes
    let h = try ClusterHarness(
      nodes: n, degree: 4,
      config: try AlgorithmRuns.mnist("rwm", iterations: Self.iterations, testAfter: Self.iterations))
    XCTAssertEqual(h.wait(try h.start(), timeout: 600), [Int32](repeating: 0, count: n), h.output(0))
    let records = try (0..<n).map { try h.record($0) }
    let neighbours = try AlgorithmRuns.neighbours(h)
    let frame = 4 * AlgorithmRuns.parameters
    var iterations = 0
    var dataBytes = 0
    for r in records {
      XCTAssertEqual(r.outcome, "completed", "node \(r.uid)")
      let done = r.roundsCompleted
      let sent = AlgorithmRuns.messagesSent(r)
      XCTAssertTrue(sent == done || sent == done + 1, "node \(r.uid): \(sent) models sent in \(done) iterations")
      let recipients = Set(r.neighbourBytes.filter { $0.value.sentMessages > 0 }.keys.compactMap { Int($0) })
      XCTAssertTrue(recipients.isSubset(of: neighbours[r.uid] ?? []), "node \(r.uid) sent to \(recipients.sorted())")
      let data = r.neighbourBytes.values.reduce(0) { $0 + $1.sentData }
      XCTAssertEqual(data, sent * frame, "node \(r.uid): one whole model per message")
      for round in r.mixedWith.rounds { XCTAssertLessThanOrEqual(r.mixedWith[round]?.count ?? 0, 1) }
      iterations += done
      dataBytes += data
    }
    XCTAssertEqual(records.map(\.roundsCompleted).max(), Self.iterations, "the first node to finish ended the run")
    // D-PSGD sends its model to each of the 4 neighbours every round (ClusterTests checks it
    // byte for byte): 4 frames per node and round.
    let ratio = Double(dataBytes) / Double(iterations) / Double(4 * frame)
    XCTAssertEqual(ratio, 0.25, accuracy: 0.02, "RWM bytes per node-iteration against D-PSGD's")
    let accuracy = AlgorithmRuns.meanFinalAccuracy(records)
    XCTAssertGreaterThanOrEqual(accuracy, 87, "mean final test accuracy \(accuracy) %")
    print(
      "rwm: mean final accuracy \(accuracy) %, iterations \(records.map(\.roundsCompleted).sorted()), bytes ratio \(ratio)"
    )
  }

  /// kill -9 of a node mid-walk: it swallows the walkers its neighbours send it until they mark
  /// it down; the survivors that starve re-inject after rwm_timeout, the walk goes on, and the
  /// first survivor to reach the iteration count ends the run for the others.
  func testKilledNodeDoesNotStopTheWalk() throws {
    let n = AlgorithmRuns.nodes
    let iterations = 150
    let h = try ClusterHarness(
      nodes: n, degree: 4,
      config: try AlgorithmRuns.mnist(
        "rwm", iterations: iterations, testAfter: iterations, peerTimeout: 2,
        node: "rwm_timeout = 1\nstep_pause = 0.005\n"))
    let victim = 5
    let processes = try h.start()
    XCTAssertTrue(h.poll(timeout: 120) { h.lastRound(victim) >= 20 })
    kill(processes[victim].processIdentifier, SIGKILL)
    processes[victim].waitUntilExit()
    let atKill = (0..<n).map { h.lastRound($0) }
    let statuses = h.wait((0..<n).filter { $0 != victim }.map { processes[$0] }, timeout: 600)
    XCTAssertEqual(statuses, [Int32](repeating: 0, count: n - 1), h.output(0))
    let neighbours = try AlgorithmRuns.neighbours(h)
    var reinjections = 0
    var reached: [Int] = []
    for uid in 0..<n where uid != victim {
      let r = try h.record(uid)
      XCTAssertEqual(r.outcome, "completed", "node \(uid)")
      reinjections += r.counters["rwm_reinjections"] ?? 0
      reached.append(r.roundsCompleted)
      XCTAssertGreaterThan(r.roundsCompleted, atKill[uid] + 10, "node \(uid) kept walking after the kill")
      if neighbours[victim]?.contains(uid) == true {
        XCTAssertTrue(r.peerEvents.contains { $0.kind == .down && $0.peer == victim }, "node \(uid)")
      }
      XCTAssertFalse(r.peerEvents.contains { $0.kind == .down && $0.peer != victim }, "node \(uid)")
    }
    XCTAssertGreaterThan(reinjections, 0, "the dead node's walkers were replaced")
    XCTAssertEqual(reached.max(), iterations)
  }
}
