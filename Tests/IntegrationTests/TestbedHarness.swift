import Foundation
import XCTest

/// A test bed of network-namespace hosts with sshd (scripts/testbed/up.sh), owned by one test:
/// its own name and subnet, so it never meets another test bed on the machine, and torn down by
/// `down()` whatever the test did.
struct Testbed {
  let name: String
  let hosts: Int
  let subnet: String
  /// The IP JSON up.sh wrote (its last line of output).
  let ipPath: String
  let state: String
  var sshConfig: String { state + "/ssh_config" }
  /// The folder every host sees at the same path, each its own: this machine sees it empty.
  var privateMount: String { state + "/private" }

  /// Builds `hosts` hosts, or skips when this process cannot (not root, no namespaces).
  init(hosts: Int) throws {
    guard getuid() == 0 else { throw XCTSkip("the multi-host test bed needs root (network namespaces, sshd)") }
    name = "it\(Int.random(in: 1000..<10000))"
    let probe = try Testbed.shell(["ip", "netns", "add", name + "-probe"])
    guard probe.status == 0 else {
      throw XCTSkip(
        "network namespaces are unavailable here (ip netns add: \(probe.output.trimmingCharacters(in: .whitespacesAndNewlines)))"
      )
    }
    try Testbed.shell(["ip", "netns", "del", name + "-probe"])
    self.hosts = hosts
    subnet = "10.231.\(Int.random(in: 100..<200))"
    let up = try Testbed.shell(
      [Testbed.script("testbed/up.sh"), "\(hosts)", "--name", name, "--subnet", subnet], timeout: 300)
    guard up.status == 0, let last = up.output.split(separator: "\n").last.map(String.init),
      last.hasSuffix("hosts.json")
    else { throw TestbedError(description: "scripts/testbed/up.sh failed (\(up.status)):\n\(up.output)") }
    ipPath = last
    state = (last as NSString).deletingLastPathComponent
  }

  func address(of host: Int) -> String { "\(subnet).\(host + 2)" }
  func privateDir(of host: Int) -> String { "\(state)/h\(host)/private" }

  func down() { _ = try? Testbed.shell([Testbed.script("testbed/down.sh"), "--name", name], timeout: 60) }

  /// Every process of host `i` (its sshd, the launcher's agent, its peerd nodes) gets SIGKILL:
  /// the host is gone as if its machine had died.
  func killHost(_ i: Int) throws {
    for pid in try pids(of: i) { kill(pid, SIGKILL) }
  }

  func pids(of host: Int) throws -> [Int32] {
    try Testbed.shell(["ip", "netns", "pids", "\(name)-h\(host)"]).output.split(separator: "\n").compactMap {
      Int32($0.trimmingCharacters(in: .whitespaces))
    }
  }

  /// peerd processes still alive on any host of the bed.
  func peerdCount() throws -> Int {
    try (0..<hosts).flatMap { try pids(of: $0) }.filter {
      ((try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) ?? "").hasPrefix("peerd")
    }.count
  }

  static func script(_ path: String) -> String { ClusterHarness.root.appendingPathComponent("scripts/" + path).path }

  /// Runs a command to completion with its output in a file (children that outlive it cannot
  /// hold a pipe open); SIGKILL after `timeout` seconds fails the caller's expectations.
  @discardableResult
  static func shell(_ args: [String], timeout: Double = 60) throws -> (status: Int32, output: String) {
    let run = try Background(args, output: NSTemporaryDirectory() + "peerd-tb-\(UUID().uuidString).out")
    let status = run.wait(timeout: timeout)
    defer { try? FileManager.default.removeItem(atPath: run.outputPath) }
    return (status, run.output)
  }
}

struct TestbedError: Error, CustomStringConvertible {
  var description: String
}

/// A process running in the background, its standard output and error going to one file.
struct Background {
  let process: Process
  let outputPath: String

  init(_ args: [String], output: String) throws {
    outputPath = output
    _ = FileManager.default.createFile(atPath: output, contents: nil)
    process = Process()
    process.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : "/usr/bin/env")
    process.arguments = args[0].hasPrefix("/") ? Array(args.dropFirst()) : args
    var env = ProcessInfo.processInfo.environment
    env["OPENBLAS_NUM_THREADS"] = "1"
    process.environment = env
    let handle = FileHandle(forWritingAtPath: output)
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
  }

  var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

  /// The exit status; after `timeout` seconds SIGTERM, then SIGKILL, and a test failure.
  func wait(timeout: Double) -> Int32 {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
    if process.isRunning {
      XCTFail("\(process.arguments ?? []) still running after \(timeout) s; output:\n\(output)")
      process.terminate()
      Thread.sleep(forTimeInterval: 5)
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// Waits until `condition` holds or `timeout` passes; returns whether it held.
  static func poll(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
      if condition() { return true }
      Thread.sleep(forTimeInterval: 0.1)
    }
    return condition()
  }
}
