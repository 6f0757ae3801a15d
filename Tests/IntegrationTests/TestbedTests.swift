import Foundation
import XCTest

/// The launcher across separate network hosts: namespaces with their own addresses and sshd
/// (scripts/testbed/up.sh), reached over real ssh with a generated key, each writing into a
/// private folder that only the launcher's `--gather` brings back. Runs as root (CI does);
/// skips with a message otherwise.
final class TestbedTests: XCTestCase {
  private var bed: Testbed?

  override func tearDown() {
    bed?.down()
    bed = nil
  }

  func launcher(_ args: [String], in dir: String) throws -> Background {
    let peerd = try ClusterHarness.binary("peerd")
    return try Background(
      [Testbed.script("launch_cluster.sh"), "--peerd", peerd, "--log-dir", dir] + args, output: dir + ".launcher.out")
  }

  func writeConfig(iterations: Int, testAfter: Int, into dir: String) throws -> (path: String, basePort: Int) {
    guard let mnist = ClusterTests.mnistDir() else {
      throw XCTSkip("MNIST not found in $PEERD_DATA, ./data or ../shared/data; run scripts/download_datasets.sh")
    }
    let base = try FreePorts.base(count: 16)
    let text = testConfig(
      dataset: "MNIST", model: "LogisticRegression", extraDataset: "train_dir = \(mnist)\ntest_dir = \(mnist)",
      iterations: iterations, testAfter: testAfter, peerTimeout: 2
    ).replacingOccurrences(of: "@BASE_PORT@", with: String(base))
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try text.write(toFile: dir + "/test.ini", atomically: true, encoding: .utf8)
    return (dir + "/test.ini", base)
  }

  /// The acceptance run: 4 hosts × 4 peerd on a 4-regular graph over ssh, D-PSGD on MNIST, each
  /// host writing only to its private folder. Host 3 dies mid-run (SIGKILL to every process in
  /// its namespace: sshd, agent, nodes). The other 12 finish every round, their results come back
  /// through rsync, show training, and the launcher names the four lost nodes.
  func testFourHostsOverSSHOneHostKilledMidRun() throws {
    let tb = try Testbed(hosts: 4)
    bed = tb
    let dir = NSTemporaryDirectory() + "peerd-tb-\(UUID().uuidString)"
    let rounds = 100
    let config = try writeConfig(iterations: rounds, testAfter: 25, into: dir + "-inputs")
    let remoteDir = tb.privateMount + "/runs/acceptance"
    let run = try launcher(
      [
        "--config", config.path, "--ip", tb.ipPath, "--ssh-config", tb.sshConfig, "--procs-per-machine", "4",
        "--nodes", "16", "--degree", "4", "--gather", "--remote-log-dir", remoteDir,
      ], in: dir)
    // Host 3 writes into its own private folder; this machine reads it there only to time the kill.
    let hostThreeOut = tb.privateDir(of: 3) + "/runs/acceptance/machine3/12.out"
    let started = Background.poll(timeout: 120) {
      let text = (try? String(contentsOfFile: hostThreeOut, encoding: .utf8)) ?? ""
      return text.contains("round=10/")
    }
    XCTAssertTrue(started, "node 12 never reached round 10; launcher:\n\(run.output)")
    try tb.killHost(3)
    let status = run.wait(timeout: 300)
    let out = run.output
    XCTAssertEqual(status, 1, out)
    for uid in 12..<16 { XCTAssertTrue(out.contains("LOST: node \(uid) (machine 3, \(tb.address(of: 3)))"), out) }
    for uid in 0..<12 { XCTAssertFalse(out.contains("LOST: node \(uid) "), out) }
    XCTAssertTrue(out.contains("12 of 16 nodes finished all \(rounds) rounds"), out)
    XCTAssertTrue(out.contains("could not gather machine 3"), out)

    // Nothing is shared: the mount point is empty here, so every file below came back by rsync.
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tb.privateMount), [])
    let table = try String(contentsOfFile: dir + "/nodes.tsv", encoding: .utf8).split(separator: "\n").dropFirst()
    XCTAssertEqual(table.count, 16)
    for line in table {
      let f = line.split(separator: "\t").map(String.init)
      XCTAssertEqual(f[3], Int(f[0])! < 12 ? "finished" : "lost", String(line))
      if Int(f[0])! < 12 { XCTAssertEqual(f[5], "\(rounds)", String(line)) }
    }
    for uid in 0..<12 {
      let path = dir + "/machine\(uid / 4)/\(uid)_results.json"
      let json = try XCTUnwrap(
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
      let roundTimes = try XCTUnwrap(json["round_time"] as? [String: Any], "node \(uid)")
      XCTAssertEqual(roundTimes.count, rounds, "node \(uid) did not record every round")
      let acc = try XCTUnwrap((json["test_acc"] as? [String: Any])?["\(rounds)"] as? NSNumber, "node \(uid)")
      XCTAssertGreaterThan(acc.doubleValue, 80, "node \(uid) test accuracy")
      // An untrained 10-class model's cross-entropy is ln 10 ≈ 2.30.
      let loss = try XCTUnwrap(json["train_loss"] as? [String: NSNumber], "node \(uid)")
      XCTAssertEqual(loss.keys.sorted(), ["100", "25", "50", "75"], "node \(uid)")
      for (round, value) in loss { XCTAssertLessThan(value.doubleValue, 1.0, "node \(uid) train loss at \(round)") }
    }
    XCTAssertEqual(try tb.peerdCount(), 0, "peerd processes left on the test bed")
  }

  /// Before anything starts, a port taken on one host is named (host, port, node) and nothing
  /// starts. A node that fails at start (exit 2 on one host) aborts the run, and every process
  /// the launcher started on every host is stopped.
  func testPortInUseIsNamedAndAStartFailureStopsEveryHost() throws {
    let tb = try Testbed(hosts: 2)
    bed = tb
    let inputs = NSTemporaryDirectory() + "peerd-tb-\(UUID().uuidString)"
    let config = try writeConfig(iterations: 200, testAfter: 0, into: inputs)
    let peerctl = try ClusterHarness.binary("peerctl")
    let peerd = try ClusterHarness.binary("peerd")
    let graph = inputs + "/graph.txt"
    XCTAssertEqual(try Testbed.shell([peerctl, "graph", "--nodes", "8", "--degree", "4", "-o", graph]).status, 0)

    // A stray peerd on host 1 holds node 6's port (it waits in its start barrier).
    let holder = try Background(
      [
        "ip", "netns", "exec", "\(tb.name)-h1", peerd, "--uid", "6", "--procs-per-machine", "4", "--config",
        config.path, "--graph", graph, "--ip", tb.ipPath, "--log-dir", inputs + "/holder",
      ], output: inputs + "/holder.out")
    defer { holder.process.terminate() }
    XCTAssertTrue(
      Background.poll(timeout: 30) {
        ((try? String(contentsOfFile: inputs + "/holder/6.log", encoding: .utf8)) ?? "").contains("node 6 up")
      }, "the port holder did not start: \(holder.output)")
    let common = [
      "--config", config.path, "--graph", graph, "--ip", tb.ipPath, "--ssh-config", tb.sshConfig,
      "--procs-per-machine", "4",
    ]
    let blocked = try launcher(common, in: inputs + "/blocked")
    XCTAssertEqual(blocked.wait(timeout: 60), 2, blocked.output)
    XCTAssertTrue(
      blocked.output.contains(
        "machine 1 (\(tb.address(of: 1))): port \(config.basePort + 6) is in use (Address already in use); node 6 binds it"
      ),
      blocked.output)
    XCTAssertTrue(blocked.output.contains("nothing was started"), blocked.output)
    XCTAssertFalse(FileManager.default.fileExists(atPath: inputs + "/blocked/machine0/0.out"))
    holder.process.terminate()
    holder.process.waitUntilExit()

    // A peerd that rejects its input on host 1 (rank 1 there: node 5); the others start and wait.
    let wrapper = inputs + "/bin/peerd"
    try FileManager.default.createDirectory(atPath: inputs + "/bin", withIntermediateDirectories: true)
    try """
    #!/bin/sh
    case " $* " in *" --machine-id 1 --rank 1 "*) echo "peerd: test.ini: injected bad input on this host" >&2; exit 2 ;; esac
    exec '\(peerd)' "$@"
    """.write(toFile: wrapper, atomically: true, encoding: .utf8)
    chmod(wrapper, 0o755)
    try FileManager.default.createSymbolicLink(atPath: inputs + "/bin/peerctl", withDestinationPath: peerctl)
    let aborted = try Background(
      [Testbed.script("launch_cluster.sh"), "--peerd", wrapper, "--log-dir", inputs + "/aborted"] + common,
      output: inputs + "/aborted.out")
    XCTAssertEqual(aborted.wait(timeout: 120), 3, aborted.output)
    XCTAssertTrue(
      aborted.output.contains("ABORTED at start: node 5 (machine 1, \(tb.address(of: 1))) exited 2 (bad input)"),
      aborted.output)
    XCTAssertTrue(aborted.output.contains("injected bad input on this host"), aborted.output)
    XCTAssertEqual(try tb.peerdCount(), 0, "peerd processes left after the abort")
  }
}
