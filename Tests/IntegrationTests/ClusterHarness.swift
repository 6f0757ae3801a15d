import Foundation
import XCTest

/// Starts real `peerd` processes talking ZeroMQ over loopback TCP, and reads their results.
///
/// Binaries come from `$PEERD_BIN_DIR` (scripts/test.sh points it at the release build), else
/// `.build/release`, else `.build/debug`.
struct ClusterHarness {
  let dir: String
  let nodes: Int
  let basePort: Int

  static var root: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  static func binary(_ name: String) throws -> String {
    var candidates: [String] = []
    if let dir = ProcessInfo.processInfo.environment["PEERD_BIN_DIR"] { candidates.append(dir) }
    candidates += [
      root.appendingPathComponent(".build/release").path, root.appendingPathComponent(".build/debug").path,
    ]
    for d in candidates where FileManager.default.isExecutableFile(atPath: d + "/" + name) { return d + "/" + name }
    throw XCTSkip("no \(name) binary built; run scripts/test.sh (it builds the release binaries first)")
  }

  /// A fresh run folder with a regular graph, an IP file and `config` written into it.
  init(nodes: Int, degree: Int, config: String) throws {
    dir = NSTemporaryDirectory() + "peerd-it-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    self.nodes = nodes
    basePort = try FreePorts.base(count: nodes)
    try "{\"0\": \"127.0.0.1\"}".write(toFile: dir + "/ip.json", atomically: true, encoding: .utf8)
    let cfg = config.replacingOccurrences(of: "@BASE_PORT@", with: String(basePort))
    try cfg.write(toFile: dir + "/config.ini", atomically: true, encoding: .utf8)
    let graph = try ClusterHarness.run(
      try ClusterHarness.binary("peerctl"),
      [
        "graph", "--type", degree == nodes - 1 ? "full" : "regular", "--nodes", "\(nodes)", "--degree", "\(degree)",
        "--seed", "3", "-o", dir + "/graph.txt",
      ])
    XCTAssertEqual(graph.status, 0, graph.output)
  }

  /// Runs a command to completion; returns its status and combined output.
  @discardableResult
  static func run(_ path: String, _ args: [String], timeout: Double = 120) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// Starts every node; returns the processes (stdout/stderr to files in the run folder).
  func start(extra: [String] = []) throws -> [Process] {
    let peerd = try ClusterHarness.binary("peerd")
    var env = ProcessInfo.processInfo.environment
    env["OPENBLAS_NUM_THREADS"] = "1"
    return try (0..<nodes).map { uid in
      let p = Process()
      p.executableURL = URL(fileURLWithPath: peerd)
      p.arguments =
        [
          "--uid", "\(uid)", "--procs-per-machine", "\(nodes)", "--config", dir + "/config.ini",
          "--graph", dir + "/graph.txt", "--ip", dir + "/ip.json", "--log-dir", dir,
        ] + extra
      p.environment = env
      _ = FileManager.default.createFile(atPath: dir + "/\(uid).out", contents: nil)
      p.standardOutput = FileHandle(forWritingAtPath: dir + "/\(uid).out")
      p.standardError = FileHandle(forWritingAtPath: dir + "/\(uid).out")
      try p.run()
      return p
    }
  }

  /// Waits for every process, killing all of them after `timeout` seconds (a hang fails the test).
  func wait(_ processes: [Process], timeout: Double) -> [Int32] {
    let deadline = Date(timeIntervalSinceNow: timeout)
    for p in processes {
      while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    }
    let hung = processes.filter(\.isRunning)
    for p in hung { p.terminate() }
    XCTAssertTrue(hung.isEmpty, "\(hung.count) peerd process(es) still running after \(timeout) s")
    for p in processes { p.waitUntilExit() }
    return processes.map(\.terminationStatus)
  }

  func results(_ uid: Int) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(uid)_results.json"))
    return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  func series(_ uid: Int, _ key: String) throws -> [Int: Double] {
    let map = try XCTUnwrap(try results(uid)[key] as? [String: Any], "no \(key) in \(uid)_results.json")
    var out: [Int: Double] = [:]
    for (k, v) in map { out[Int(k)!] = (v as! NSNumber).doubleValue }
    return out
  }

  func output(_ uid: Int) -> String { (try? String(contentsOfFile: dir + "/\(uid).out", encoding: .utf8)) ?? "" }
}

/// A config for the harness; `@BASE_PORT@` is replaced with a free-ish port range.
func testConfig(
  dataset: String, model: String, extraDataset: String = "", lr: Double = 0.1, rounds: Int = 10,
  iterations: Int, testAfter: Int, peerTimeout: Double = 30, loss: String = "CrossEntropyLoss"
) -> String {
  """
  [DATASET]
  dataset_class = \(dataset)
  model_class = \(model)
  random_seed = 90
  \(extraDataset)
  [OPTIMIZER_PARAMS]
  optimizer_class = SGD
  lr = \(lr)
  [TRAIN_PARAMS]
  rounds = \(rounds)
  batch_size = 16
  loss_class = \(loss)
  [COMMUNICATION]
  base_port = @BASE_PORT@
  [NODE]
  iterations = \(iterations)
  test_after = \(testAfter)
  train_evaluate_after = \(testAfter)
  peer_timeout = \(peerTimeout)
  start_timeout = 60
  """
}
