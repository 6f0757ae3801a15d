import Foundation
import Learning
import XCTest

/// The fault matrix (issue: "faults heal instead of partitioning the cluster"): 16 real peerd
/// processes on a 4-regular graph, D-PSGD, logistic regression on MNIST. After each fault, every
/// survivor mixes with every live neighbour in every round after the one in which it detected the
/// fault, the run ends within rounds × the clean round time + 2 × peer_timeout, and the mean final
/// accuracy stays within 1 point of the clean run.
///
/// CI runs it at the size below; `scripts/fault_matrix.sh` runs it longer (PEERD_FAULT_ROUNDS,
/// PEERD_FAULT_TIMEOUT).
final class FaultMatrixTests: XCTestCase {
  static let nodes = 16
  static let rounds = Int(ProcessInfo.processInfo.environment["PEERD_FAULT_ROUNDS"] ?? "") ?? 60
  static let peerTimeout = Double(ProcessInfo.processInfo.environment["PEERD_FAULT_TIMEOUT"] ?? "") ?? 2
  /// The round at which faults strike.
  static var faultRound: Int { rounds / 4 }
  /// Seconds of emulated work per local step: 10 steps make a round of about 50 ms.
  static let stepPause = 0.005

  /// The clean run's figures, measured once per test process.
  struct Baseline {
    var meanAccuracy: Double
    var roundTime: Double
  }
  nonisolated(unsafe) static var baseline: Baseline?

  func config(stepPause: Double = FaultMatrixTests.stepPause, checkpointEvery: Int = 0) throws -> String {
    guard let mnist = ClusterTests.mnistDir() else {
      throw XCTSkip("MNIST not found in $PEERD_DATA, ./data or ../shared/data; run scripts/download_datasets.sh")
    }
    return testConfig(
      dataset: "MNIST", model: "LogisticRegression", extraDataset: "train_dir = \(mnist)\ntest_dir = \(mnist)",
      iterations: Self.rounds, testAfter: Self.rounds, peerTimeout: Self.peerTimeout, startTimeout: 20)
      + "\nstep_pause = \(stepPause)\ncheckpoint_every = \(checkpointEvery)\n"
  }

  func harness() throws -> ClusterHarness {
    let h = try ClusterHarness(nodes: Self.nodes, degree: 4, config: try config())
    try h.writeConfig(try config(stepPause: 0), as: "fast.ini")
    try h.writeConfig(try config(stepPause: 4 * Self.stepPause), as: "slow.ini")
    try h.writeConfig(try config(checkpointEvery: 5), as: "checkpointed.ini")
    return h
  }

  func neighbours(_ h: ClusterHarness, _ uid: Int) throws -> [Int] {
    let lines = try String(contentsOfFile: h.dir + "/graph.txt", encoding: .utf8).split(separator: "\n").dropFirst()
    var out: Set<Int> = []
    for line in lines {
      let ends = line.split(separator: " ").compactMap { Int($0) }
      guard ends.count == 2 else { continue }
      if ends[0] == uid { out.insert(ends[1]) }
      if ends[1] == uid { out.insert(ends[0]) }
    }
    return out.sorted()
  }

  func clean() throws -> Baseline {
    if let b = Self.baseline { return b }
    let h = try harness()
    let status = h.wait(try h.start(), timeout: 300)
    XCTAssertEqual(status, [Int32](repeating: 0, count: Self.nodes))
    let records = try (0..<Self.nodes).map { try h.record($0) }
    let accuracy = records.compactMap { $0.testAcc[Self.rounds] }.reduce(0, +) / Double(Self.nodes)
    let roundTime =
      records.map { ($0.elapsedTime[Self.rounds] ?? 0) - $0.startupTime }.reduce(0, +)
      / Double(Self.nodes * Self.rounds)
    let b = Baseline(meanAccuracy: accuracy, roundTime: roundTime)
    Self.baseline = b
    return b
  }

  /// Asserts the three promises for the survivors (everyone but `victims`); `returning` victims
  /// came back and must be mixed with again from the round after their return.
  func assertHealed(
    _ h: ClusterHarness, statuses: [Int: Int32], victims: Set<Int>, returning: Set<Int> = [],
    slowRounds: Int = 0, scenario: String = #function, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let base = try clean()
    var accuracies: [Double] = []
    var longest = 0.0
    for uid in 0..<Self.nodes where !victims.contains(uid) {
      XCTAssertEqual(statuses[uid], 0, "node \(uid): \(h.output(uid).suffix(400))", file: file, line: line)
      let r = try h.record(uid)
      XCTAssertEqual(r.outcome, "completed", "node \(uid)", file: file, line: line)
      let wrong = r.peerEvents.filter { $0.kind == .down && !victims.contains($0.peer) }
      XCTAssertEqual(wrong, [], "node \(uid) marked a healthy neighbour down", file: file, line: line)
      let detection = r.peerEvents.filter { $0.kind != .up }.map(\.round).max() ?? 0
      let healthy = Set(try neighbours(h, uid)).subtracting(victims)
      for round in r.mixedWith.rounds where round > detection {
        let mixed = Set(r.mixedWith[round] ?? [])
        XCTAssertTrue(
          healthy.isSubset(of: mixed),
          "node \(uid) round \(round) mixed with \(mixed.sorted()), not all of \(healthy.sorted())",
          file: file, line: line)
      }
      for v in returning where try neighbours(h, uid).contains(v) {
        guard let back = r.peerEvents.last(where: { $0.kind == .up && $0.peer == v }) else {
          XCTFail("node \(uid) never saw \(v) come back", file: file, line: line)
          continue
        }
        for round in r.mixedWith.rounds where round > back.round + 1 {
          XCTAssertTrue(
            r.mixedWith[round]?.contains(v) == true, "node \(uid) round \(round) did not mix with \(v) again",
            file: file, line: line)
        }
      }
      // The run's time: every round at the clean pace, plus at most two timeouts of waiting.
      let training = (r.elapsedTime[Self.rounds] ?? .infinity) - r.startupTime
      let bound = timeBound(base, slowRounds: slowRounds)
      XCTAssertLessThan(training, bound, "node \(uid) took \(training) s", file: file, line: line)
      if let acc = r.testAcc[Self.rounds] { accuracies.append(acc) }
      longest = max(longest, training)
    }
    let mean = accuracies.reduce(0, +) / Double(max(1, accuracies.count))
    // The figures behind the assertions, one line per scenario (scripts/fault_matrix.sh).
    let bound = timeBound(base, slowRounds: slowRounds)
    print(
      "fault matrix: \(scenario): \(accuracies.count) survivors, "
        + String(
          format: "mean accuracy %.2f %% (min %.2f; clean %.2f), longest run %.1f s (bound %.1f s)", mean,
          accuracies.min() ?? .nan, base.meanAccuracy, longest, bound))
    XCTAssertEqual(mean, base.meanAccuracy, accuracy: 1, "mean accuracy after the fault", file: file, line: line)
  }

  /// Every round at the clean pace, plus at most two timeouts of waiting, plus the rounds the
  /// cluster spent at a slow victim's pace before the fault (D-PSGD follows its slowest node:
  /// `slow.ini` pauses 3 × `stepPause` longer on each of a round's 10 steps).
  func timeBound(_ base: Baseline, slowRounds: Int) -> Double {
    Double(Self.rounds) * base.roundTime * 1.3 + 2 * Self.peerTimeout + 0.5
      + Double(slowRounds) * 10 * 3 * Self.stepPause
  }

  /// Starts every node, `victim` with `victimConfig`; returns the processes by uid.
  func startCluster(_ h: ClusterHarness, victimConfig: [Int: String] = [:]) throws -> [Int: Process] {
    var p: [Int: Process] = [:]
    for uid in 0..<Self.nodes { p[uid] = try h.startNode(uid, config: victimConfig[uid] ?? "config.ini") }
    return p
  }

  func finish(_ h: ClusterHarness, _ processes: [Int: Process]) -> [Int: Int32] {
    let uids = processes.keys.sorted()
    let statuses = h.wait(uids.map { processes[$0]! }, timeout: 300)
    return Dictionary(uniqueKeysWithValues: zip(uids, statuses))
  }

  func testKillAtTheStart() throws {
    let h = try harness()
    let victim = 5
    var p: [Int: Process] = [:]
    for uid in 0..<Self.nodes where uid != victim { p[uid] = try h.startNode(uid) }
    XCTAssertTrue(h.poll { (0..<Self.nodes).allSatisfy { $0 == victim || !h.events($0).isEmpty } })
    let v = try h.startNode(victim)
    XCTAssertTrue(h.poll { !h.events(victim).isEmpty })
    Thread.sleep(forTimeInterval: 0.2)
    kill(v.processIdentifier, SIGKILL)
    v.waitUntilExit()
    try assertHealed(h, statuses: finish(h, p), victims: [victim])
  }

  func testKillMidTraining() throws {
    let h = try harness()
    let victim = 3
    let p = try startCluster(h, victimConfig: [victim: "slow.ini"])
    XCTAssertTrue(h.poll { h.lastRound(victim) >= Self.faultRound })
    kill(p[victim]!.processIdentifier, SIGKILL)
    var rest = p
    rest[victim] = nil
    try assertHealed(h, statuses: finish(h, rest), victims: [victim], slowRounds: Self.faultRound)
  }

  func testKillMidWait() throws {
    let h = try harness()
    let victim = 8
    let p = try startCluster(h, victimConfig: [victim: "fast.ini"])
    XCTAssertTrue(h.poll { h.lastRound(victim) >= Self.faultRound })
    kill(p[victim]!.processIdentifier, SIGKILL)
    var rest = p
    rest[victim] = nil
    try assertHealed(h, statuses: finish(h, rest), victims: [victim])
  }

  func testTwoNeighboursKilledAtOnce() throws {
    let h = try harness()
    let a = 0
    let b = try XCTUnwrap(try neighbours(h, a).first)
    let p = try startCluster(h)
    XCTAssertTrue(h.poll { h.lastRound(a) >= Self.faultRound })
    kill(p[a]!.processIdentifier, SIGKILL)
    kill(p[b]!.processIdentifier, SIGKILL)
    var rest = p
    rest[a] = nil
    rest[b] = nil
    try assertHealed(h, statuses: finish(h, rest), victims: [a, b])
  }

  /// SIGSTOP for longer than the timeout, then SIGCONT: marked down, probed, back, rejoined.
  func testStoppedPastTheTimeoutThenContinued() throws {
    let h = try harness()
    let victim = 11
    let p = try startCluster(h)
    XCTAssertTrue(h.poll { h.lastRound(victim) >= Self.faultRound })
    kill(p[victim]!.processIdentifier, SIGSTOP)
    Thread.sleep(forTimeInterval: 1.5 * Self.peerTimeout)
    kill(p[victim]!.processIdentifier, SIGCONT)
    let statuses = finish(h, p)
    try assertHealed(h, statuses: statuses, victims: [victim], returning: [victim])
    XCTAssertEqual(statuses[victim], 0, h.output(victim))
    XCTAssertEqual(try h.record(victim).mixedWith[Self.rounds], try neighbours(h, victim))
  }

  /// SIGTERM: BYE (neighbours mark it departed at once, no timeout), results, weights and a
  /// checkpoint written, exit code 3.
  func testTerminatedNodeLeavesCleanly() throws {
    let h = try harness()
    let victim = 6
    let p = try startCluster(h)
    XCTAssertTrue(h.poll { h.lastRound(victim) >= Self.faultRound })
    kill(p[victim]!.processIdentifier, SIGTERM)
    p[victim]!.waitUntilExit()
    XCTAssertEqual(p[victim]!.terminationStatus, 3, h.output(victim))
    let r = try h.record(victim)
    XCTAssertEqual(r.outcome, "stopped")
    XCTAssertGreaterThanOrEqual(r.roundsCompleted, Self.faultRound)
    XCTAssertTrue(FileManager.default.fileExists(atPath: h.dir + "/\(victim).checkpoint"))
    XCTAssertTrue(FileManager.default.fileExists(atPath: h.dir + "/\(victim)_model.bin"))
    var rest = p
    rest[victim] = nil
    let statuses = finish(h, rest)
    try assertHealed(h, statuses: statuses, victims: [victim])
    for uid in try neighbours(h, victim) {
      let events = try h.record(uid).peerEvents.filter { $0.peer == victim }
      XCTAssertEqual(events.map(\.kind), [.departed], "node \(uid) should have seen a BYE, not a timeout")
    }
  }

  func testRestartWithoutResumeRejoins() throws {
    let h = try harness()
    let victim = 9
    let p = try startCluster(h)
    XCTAssertTrue(h.poll { h.lastRound(victim) >= Self.faultRound })
    kill(p[victim]!.processIdentifier, SIGKILL)
    p[victim]!.waitUntilExit()
    Thread.sleep(forTimeInterval: 1.5 * Self.peerTimeout)
    var rest = p
    rest[victim] = try h.startNode(victim, suffix: ".restart")
    let statuses = finish(h, rest)
    try assertHealed(h, statuses: statuses, victims: [victim], returning: [victim])
    XCTAssertEqual(statuses[victim], 0, h.output(victim))
    let second = try h.record(victim)
    XCTAssertGreaterThan(second.mixedWith.rounds.first ?? 0, Self.faultRound, "it joined the neighbourhood's round")
    XCTAssertTrue(FileManager.default.fileExists(atPath: h.dir + "/\(victim)_results.prev1.json"))
  }

  func testRestartWithResumeContinuesFromTheCheckpoint() throws {
    let h = try harness()
    let victim = 13
    let p = try startCluster(h, victimConfig: [victim: "checkpointed.ini"])
    XCTAssertTrue(h.poll { h.lastRound(victim) >= Self.faultRound })
    kill(p[victim]!.processIdentifier, SIGKILL)
    p[victim]!.waitUntilExit()
    let checkpointRound = (Self.faultRound / 5) * 5
    Thread.sleep(forTimeInterval: 1.5 * Self.peerTimeout)
    var rest = p
    rest[victim] = try h.startNode(victim, config: "checkpointed.ini", extra: ["--resume"], suffix: ".resume")
    let statuses = finish(h, rest)
    try assertHealed(h, statuses: statuses, victims: [victim], returning: [victim])
    XCTAssertEqual(statuses[victim], 0, h.output(victim))
    let r = try h.record(victim)
    XCTAssertEqual(r.resumes, 1)
    // The round counter continued from the checkpoint: the rounds up to it are in the record,
    // and it went on from there (to the neighbourhood's round) instead of starting at 1 again.
    XCTAssertEqual(Array(r.mixedWith.rounds.prefix(checkpointRound)), Array(1...checkpointRound))
    XCTAssertGreaterThan(r.roundsCompleted, checkpointRound)
    XCTAssertEqual(r.mixedWith[Self.rounds], try neighbours(h, victim), "it averaged with its neighbours again")
  }
}
