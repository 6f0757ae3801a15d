import Foundation
import XCTest

/// peerd under a real Slurm (Debian's slurm-wlm, munge auth) on the namespace test bed:
/// slurmctld on this machine, one slurmd inside each host (scripts/slurm/testbed-slurm.sh).
final class SlurmTests: XCTestCase {
  private var bed: Testbed?

  override func tearDown() {
    bed?.down()
    bed = nil
  }

  /// `sbatch scripts/slurm/peerd.sbatch` with 4 nodes × 4 tasks: one task per peerd, uid from
  /// SLURM_PROCID, the IP JSON written from the allocation's NodeAddr. Every node finishes. Then
  /// the launcher runs inside `salloc` with `--remote-cmd scripts/slurm/srun-remote.sh`; then a
  /// batch job is cancelled mid-run and scancel's SIGTERM reaches every peerd; then a job whose
  /// node 5 fails at start is aborted as a whole (exit 3, the node named).
  func testSbatchRunsOneTaskPerNodeAndScancelStopsThem() throws {
    let tb = try Testbed(hosts: 4)
    bed = tb
    let up = try Testbed.shell([Testbed.script("slurm/testbed-slurm.sh"), "up", "--name", tb.name], timeout: 600)
    XCTAssertEqual(up.status, 0, up.output)
    guard up.status == 0 else { return }
    guard let mnist = ClusterTests.mnistDir() else {
      throw XCTSkip("MNIST not found in $PEERD_DATA, ./data or ../shared/data; run scripts/download_datasets.sh")
    }
    let dir = NSTemporaryDirectory() + "peerd-slurm-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    /// `<name>.ini` in `dir`: MNIST logistic regression on `ports` free ports, `node` lines added
    /// to [NODE].
    func writeConfig(_ name: String, ports: Int, iterations: Int, node: String = "") throws {
      let base = try FreePorts.base(count: ports)
      try
        (testConfig(
          dataset: "MNIST", model: "LogisticRegression", extraDataset: "train_dir = \(mnist)\ntest_dir = \(mnist)",
          iterations: iterations, testAfter: 10, peerTimeout: 5) + node)
        .replacingOccurrences(of: "@BASE_PORT@", with: String(base)).write(
          toFile: dir + "/\(name).ini", atomically: true, encoding: .utf8)
    }
    try writeConfig("slurm", ports: 16, iterations: 20)
    let conf = tb.state + "/slurm/slurm.conf"
    func sbatch(_ args: [String]) throws -> (status: Int32, output: String) {
      try Testbed.shell(
        ["env", "SLURM_CONF=\(conf)", "sh", "-c", "cd '\(ClusterHarness.root.path)' && exec sbatch \"$@\"", "sbatch"]
          + args, timeout: 300)
    }
    /// `sbatch --wait` of peerd.sbatch on 4 hosts × 4 tasks with `<config>.ini`, the run in
    /// `dir/<run>`: the status, and what sbatch and the job printed.
    func runJob(config: String, run: String) throws -> (status: Int32, output: String) {
      let r = try sbatch([
        "--wait", "--nodes=4", "--ntasks-per-node=4", "-o", dir + "/\(run).out", "scripts/slurm/peerd.sbatch",
        "--config", dir + "/\(config).ini", "--log-dir", dir + "/\(run)",
      ])
      return (r.status, r.output + ((try? String(contentsOfFile: dir + "/\(run).out", encoding: .utf8)) ?? ""))
    }
    let done = try runJob(config: "slurm", run: "run")
    XCTAssertEqual(done.status, 0, done.output)
    XCTAssertTrue(done.output.contains("16 of 16 nodes finished"), done.output)
    let ip = try String(contentsOfFile: dir + "/run/ip.json", encoding: .utf8)
    for h in 0..<4 { XCTAssertTrue(ip.contains("\"\(h)\": \"\(tb.address(of: h))\""), ip) }
    for uid in 0..<16 {
      let m = uid / 4
      XCTAssertEqual(try String(contentsOfFile: "\(dir)/run/machine\(m)/\(uid).rc", encoding: .utf8), "0\n")
      let log = try String(contentsOfFile: "\(dir)/run/machine\(m)/\(uid).log", encoding: .utf8)
      XCTAssertTrue(log.contains(" 20 rounds, sent "), "node \(uid): \(log)")
    }

    // FedAvg: the job runs the server (uid 16, port base + 16) beside task 0 on the first host.
    try writeConfig("fedavg", ports: 17, iterations: 10, node: "\nalgorithm = fedavg\nclient_fraction = 0.5\n")
    let fed = try runJob(config: "fedavg", run: "fedavg")
    XCTAssertEqual(fed.status, 0, fed.output)
    XCTAssertTrue(fed.output.contains("16 of 16 nodes finished"), fed.output)
    XCTAssertTrue(fed.output.contains("the FedAvg server (uid 16) finished"), fed.output)
    XCTAssertEqual(try String(contentsOfFile: dir + "/fedavg/machine0/16.rc", encoding: .utf8), "0\n")
    let serverResults = try XCTUnwrap(
      JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: dir + "/fedavg/machine0/16_results.json")))
        as? [String: Any])
    let serverAccuracy = try XCTUnwrap((serverResults["test_acc"] as? [String: Double])?["10"], "\(serverResults)")
    XCTAssertGreaterThan(serverAccuracy, 80, "the FedAvg server's model at round 10")

    // The launcher inside an allocation, reaching each host through srun instead of ssh.
    let salloc = try Testbed.shell(
      [
        "env", "SLURM_CONF=\(conf)", "salloc", "--nodes=4", "--ntasks-per-node=4", Testbed.script("launch_cluster.sh"),
        "--peerd", try ClusterHarness.binary("peerd"), "--config", dir + "/slurm.ini", "--ip", tb.ipPath,
        "--procs-per-machine", "4", "--iterations", "10", "--remote-cmd", Testbed.script("slurm/srun-remote.sh"),
        "--log-dir", dir + "/salloc",
      ], timeout: 300)
    XCTAssertEqual(salloc.status, 0, salloc.output)
    XCTAssertTrue(salloc.output.contains("16 of 16 nodes finished all 10 rounds"), salloc.output)

    let submitted = try sbatch([
      "--parsable", "--nodes=4", "--ntasks-per-node=4", "-o", dir + "/cancel.out", "scripts/slurm/peerd.sbatch",
      "--config", dir + "/slurm.ini", "--log-dir", dir + "/cancel", "--iterations", "100000",
    ])
    let job = submitted.output.trimmingCharacters(in: .whitespacesAndNewlines)
    XCTAssertEqual(submitted.status, 0, job)
    XCTAssertTrue(
      Background.poll(timeout: 120) {
        ((try? String(contentsOfFile: dir + "/cancel/machine3/15.out", encoding: .utf8)) ?? "").contains("round=3/")
      }, "the second job never reached round 3")
    XCTAssertEqual(try Testbed.shell(["env", "SLURM_CONF=\(conf)", "scancel", job]).status, 0)
    XCTAssertTrue(Background.poll(timeout: 60) { (try? tb.peerdCount()) == 0 }, "peerd still running after scancel")
    for uid in 0..<16 {
      let rc = try? String(contentsOfFile: "\(dir)/cancel/machine\(uid / 4)/\(uid).rc", encoding: .utf8)
      // SIGTERM's default action (143), or peerd's own handler's exit 3 once it has one.
      XCTAssertTrue(["143\n", "3\n"].contains(rc ?? "none"), "node \(uid) exit \(rc ?? "none")")
    }

    // A checkout whose peerd rejects its input in task 5 only: the step is cancelled, the job
    // says which node and why, and exits 3.
    let fake = dir + "/fakeroot"
    try FileManager.default.createDirectory(atPath: fake + "/.build/release", withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      atPath: fake + "/scripts", withDestinationPath: ClusterHarness.root.appendingPathComponent("scripts").path)
    try FileManager.default.createSymbolicLink(
      atPath: fake + "/.build/release/peerctl", withDestinationPath: try ClusterHarness.binary("peerctl"))
    try """
    #!/bin/sh
    [ "$SLURM_PROCID" = 5 ] && { echo "peerd: slurm.ini: injected bad input in task 5" >&2; exit 2; }
    exec '\(try ClusterHarness.binary("peerd"))' "$@"
    """.write(toFile: fake + "/.build/release/peerd", atomically: true, encoding: .utf8)
    chmod(fake + "/.build/release/peerd", 0o755)
    let aborted = try sbatch([
      "--wait", "--export=ALL,PEERD_ROOT=\(fake)", "--nodes=4", "--ntasks-per-node=4", "-o", dir + "/abort.out",
      "scripts/slurm/peerd.sbatch", "--config", dir + "/slurm.ini", "--log-dir", dir + "/abort", "--iterations", "500",
    ])
    let abortOut = (try? String(contentsOfFile: dir + "/abort.out", encoding: .utf8)) ?? ""
    XCTAssertEqual(aborted.status, 3, abortOut)
    XCTAssertTrue(
      abortOut.contains("ABORTED at start: node 5 (\(tb.name)-h1) exited 2 before its first round"), abortOut)
    XCTAssertTrue(abortOut.contains("injected bad input in task 5"), abortOut)
    XCTAssertEqual(try tb.peerdCount(), 0, "peerd still running after the aborted job")
  }
}
