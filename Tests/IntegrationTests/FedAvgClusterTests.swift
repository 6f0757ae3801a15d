import Foundation
import Learning
import XCTest

/// FedAvg with real processes: 16 clients and their server (uid 16, on machine 0 at
/// base_port + 16), half the clients a round; a killed client does not stall the server, and the
/// server's global model learns.
final class FedAvgClusterTests: XCTestCase {
  static let iterations = Int(ProcessInfo.processInfo.environment["PEERD_FEDAVG_ROUNDS"] ?? "") ?? 100

  func testKilledClientDoesNotStallTheServerAndTheGlobalModelLearns() throws {
    let n = AlgorithmRuns.nodes
    let rounds = Self.iterations
    let peerTimeout = 2.0
    let h = try ClusterHarness(
      nodes: n, degree: 4,
      config: try AlgorithmRuns.mnist(
        "fedavg", iterations: rounds, testAfter: rounds, peerTimeout: peerTimeout,
        node: "client_fraction = 0.5\nround_deadline = 10\nstep_pause = 0.002\n"))
    let server = n
    var processes = try h.start()
    processes.append(try h.startNode(server))
    let victim = 9
    XCTAssertTrue(h.poll(timeout: 120) { h.lastRound(server) >= rounds / 4 })
    kill(processes[victim].processIdentifier, SIGKILL)
    processes[victim].waitUntilExit()
    let rest = (0...n).filter { $0 != victim }
    let statuses = h.wait(rest.map { processes[$0] }, timeout: 600)
    XCTAssertEqual(statuses, [Int32](repeating: 0, count: n), h.output(server))

    let s = try h.record(server)
    XCTAssertEqual(s.outcome, "completed")
    XCTAssertEqual(s.roundsCompleted, rounds)
    XCTAssertEqual(s.mixedWith.rounds, Array(1...rounds))
    for round in 1...rounds { XCTAssertLessThanOrEqual(s.mixedWith[round]?.count ?? 0, n / 2) }
    let down = try XCTUnwrap(s.peerEvents.first { $0.kind == .down && $0.peer == victim }, "the server saw it die")
    for round in s.mixedWith.rounds where round > down.round {
      XCTAssertFalse(s.mixedWith[round]!.contains(victim), "round \(round) used the dead client")
      XCTAssertEqual(s.mixedWith[round]?.count, n / 2, "round \(round): a live client was left out")
    }
    XCTAssertGreaterThanOrEqual(s.counters["fedavg_clients_left_out"] ?? 0, 1)
    // At most the round it died in waits, for at most one peer_timeout after it was last heard.
    let times = s.roundTime.rounds.compactMap { s.roundTime[$0] }.sorted()
    let typical = times[times.count / 2]
    let training = (s.elapsedTime[rounds] ?? .infinity) - s.startupTime
    XCTAssertLessThan(training, Double(rounds) * typical * 2 + 2 * peerTimeout + 2, "the server stalled")
    // Only the server evaluates; the clients return models and stop with it.
    XCTAssertGreaterThanOrEqual(s.testAcc[rounds] ?? 0, 87, "global model test accuracy")
    print("fedavg: global accuracy \(s.testAcc[rounds] ?? 0) % after \(rounds) rounds, \(s.counters) , \(training) s")
    for uid in 0..<n where uid != victim {
      let c = try h.record(uid)
      XCTAssertTrue(c.testAcc.isEmpty)
      XCTAssertEqual(Set(c.mixedWith.values.values.flatMap { $0 }), [server], "client \(uid)")
    }
  }
}

/// The launcher: the same invocation that runs 16 D-PSGD peers runs 16 FedAvg clients and their
/// server when only `[NODE] algorithm` changes.
final class FedAvgLauncherTests: XCTestCase {
  func testLauncherStartsTheServerWhenTheConfigSaysFedAvg() throws {
    let dir = NSTemporaryDirectory() + "peerd-fedavg-launch-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let base = try FreePorts.base(count: 17)
    let config = try AlgorithmRuns.mnist("fedavg", iterations: 20, testAfter: 20, node: "client_fraction = 0.5\n")
      .replacingOccurrences(of: "@BASE_PORT@", with: String(base))
    try config.write(toFile: dir + "/fedavg.ini", atomically: true, encoding: .utf8)
    let peerd = try ClusterHarness.binary("peerd")
    let run = try Background(
      [
        Testbed.script("launch_cluster.sh"), "--peerd", peerd, "--config", dir + "/fedavg.ini", "--nodes", "16",
        "--degree", "4", "--log-dir", dir + "/run",
      ], output: dir + "/launcher.out")
    XCTAssertEqual(run.wait(timeout: 300), 0, run.output)
    XCTAssertTrue(run.output.contains("and the FedAvg server (uid 16, machine 0)"), run.output)
    XCTAssertTrue(run.output.contains("17 of 17 processes (16 clients and the server) finished"), run.output)
    let folder = dir + "/run/machine0"
    let server = try JSONDecoder().decode(
      NodeResults.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/16_results.json")))
    XCTAssertEqual(server.role, "server")
    XCTAssertEqual(server.roundsCompleted, 20)
    XCTAssertEqual(server.mixedWith[20]?.count, 8)
    XCTAssertNotNil(server.testAcc[20])
    let clients = try (0..<16).map {
      try JSONDecoder().decode(
        NodeResults.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/\($0)_results.json")))
    }
    XCTAssertEqual(clients.map(\.role), [String](repeating: "client", count: 16))
    XCTAssertEqual(clients.map(\.roundsCompleted).reduce(0, +), 20 * 8, "8 clients a round")
    try? FileManager.default.removeItem(atPath: dir)
  }
}
