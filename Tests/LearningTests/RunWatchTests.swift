import Foundation
import XCTest

@testable import Learning

/// `peerctl watch`'s reading of a run: local folders, a remote machine's forwarded events, and a
/// machine it cannot see, followed incrementally.
final class RunWatchTests: XCTestCase {
  func event(_ kind: NodeEvent.Kind, uid: Int, round: Int, wall: Double, acc: Double? = nil, bytes: Int = 0)
    -> String
  {
    var e = NodeEvent(kind: kind, uid: uid, time: wall, round: round)
    e.wall = wall
    e.iterations = 10
    e.testAcc = acc
    e.testLoss = acc.map { 1 / $0 }
    e.bytesSent = bytes
    if kind == .end { e.outcome = "completed" }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try! encoder.encode(e), as: UTF8.self) + "\n"
  }

  func append(_ text: String, to path: String) throws {
    if !FileManager.default.fileExists(atPath: path) {
      XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
    }
    let h = try XCTUnwrap(FileHandle(forWritingAtPath: path))
    try h.seekToEnd()
    h.write(Data(text.utf8))
    try h.close()
  }

  func testFollowsLocalAndForwardedEventsAndNamesWhatItCannotSee() throws {
    let dir = NSTemporaryDirectory() + "peerd-watch-\(UUID().uuidString)"
    let fm = FileManager.default
    try fm.createDirectory(atPath: dir + "/machine0", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: dir + "/launcher", withIntermediateDirectories: true)
    var m = RunManifest(writer: "test", commandLine: [], config: .init(source: "c", copy: "inputs/c"))
    m.nodes = 6
    m.algorithm = "dpsgd"
    m.sharing = "Sharing"
    m.machines = [
      .init(id: 0, host: "127.0.0.1", folder: "machine0", remoteOnly: false),
      .init(id: 1, host: "10.0.0.2", folder: "/far/machine1", remoteOnly: true),
      .init(id: 2, host: "10.0.0.3", folder: "/far/machine2", remoteOnly: true),
    ]
    try m.write(runDirectory: dir)
    let now = Date().timeIntervalSince1970
    for uid in 0..<2 {
      try append(event(.start, uid: uid, round: 0, wall: now - 10), to: dir + "/machine0/\(uid)_events.jsonl")
      for r in 1...4 {
        try append(
          event(
            .round, uid: uid, round: r, wall: now - 10 + Double(r), acc: r == 4 ? 80 + Double(uid) : nil,
            bytes: r * 1_000_000),
          to: dir + "/machine0/\(uid)_events.jsonl")
      }
    }
    // Machine 1's agent forwarded its nodes' newest lines into one file; a line not finished yet
    // is left for later.
    let forwarded = RunWatch.forwardedPath(runDirectory: dir, machine: 1)
    try append(event(.round, uid: 2, round: 2, wall: now - 1, bytes: 2_000_000), to: forwarded)
    try append(event(.round, uid: 3, round: 6, wall: now - 1, acc: 90, bytes: 6_000_000), to: forwarded)
    try append("{\"kind\":\"round\",\"uid\":3,", to: forwarded)

    let watch = try RunWatch(directory: dir)
    var s = watch.refresh()
    XCTAssertEqual(s.label, "D-PSGD, full sharing")
    XCTAssertEqual(s.seenNodes, 4)
    XCTAssertEqual([s.minRound, s.medianRound, s.maxRound], [2, 4, 6])
    XCTAssertEqual(s.iterations, 10)
    XCTAssertEqual(s.alive, 4)
    XCTAssertEqual(s.metric ?? 0, (80 + 81 + 90) / 3, accuracy: 1e-9)
    XCTAssertEqual(s.metricNodes, 3)
    // Nodes 0 and 1: 3 MB over 3 s each; the forwarded ones have one round each (no rate yet).
    XCTAssertEqual(s.megabytesPerSecond, 2, accuracy: 1e-9)
    XCTAssertEqual(s.etaSeconds ?? 0, 6, accuracy: 1e-9)
    XCTAssertEqual(s.unseenMachines.count, 1)
    XCTAssertTrue(s.unseenMachines[0].hasPrefix("machine 2 (10.0.0.3): not visible here"), s.unseenMachines[0])
    XCTAssertTrue(s.line.contains("rounds done: min 2  median 4  max 6  of 10"), s.line)
    XCTAssertTrue(s.line.contains("2 not seen yet"), s.line)
    XCTAssertFalse(s.done)

    // Only what is added is read next time; every node's end makes the run done.
    try append("\"round\":7,\"time\":1,\"wall\":\(now)}\n", to: forwarded)
    for uid in 0..<2 {
      try append(event(.end, uid: uid, round: 4, wall: now), to: dir + "/machine0/\(uid)_events.jsonl")
    }
    s = watch.refresh()
    XCTAssertEqual(s.maxRound, 7)
    XCTAssertEqual(s.ended, ["completed": 2])
    XCTAssertEqual(s.alive, 2)
    XCTAssertEqual(s.rounds.map(\.round), [4, 4, 2, 7])
    XCTAssertFalse(s.done)
  }

  func testAFolderWithoutManifestIsReadAsItIs() throws {
    let dir = NSTemporaryDirectory() + "peerd-watch-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let now = Date().timeIntervalSince1970
    try append(
      event(.round, uid: 5, round: 3, wall: now) + event(.end, uid: 5, round: 3, wall: now), to: dir + "/5_events.jsonl"
    )
    let s = try RunWatch(directory: dir).refresh()
    XCTAssertEqual(s.rounds, [WatchSnapshot.NodeRound(uid: 5, round: 3)])
    XCTAssertTrue(s.done)
    XCTAssertTrue(s.unseenMachines.isEmpty)
    XCTAssertThrowsError(try RunWatch(directory: dir + "/nope"))
  }
  /// FedAvg: rounds and the time left follow the server (uid n); a client not sampled lately
  /// is not silent.
  func testFedAvgFollowsItsServer() throws {
    let dir = NSTemporaryDirectory() + "peerd-watch-fedavg-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir + "/machine0", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var m = RunManifest(writer: "test", commandLine: [], config: .init(source: "c", copy: "inputs/c"))
    m.nodes = 2
    m.algorithm = "fedavg"
    m.machines = [.init(id: 0, host: "127.0.0.1", folder: "machine0", remoteOnly: false)]
    try m.write(runDirectory: dir)
    let now = Date().timeIntervalSince1970
    // Server uid 2 at round 6 of 10, one round a second; client 0 sampled at rounds 1 and 2 only,
    // 60 s ago; client 1 at round 6.
    for r in 1...6 {
      try append(event(.round, uid: 2, round: r, wall: now - 6 + Double(r)), to: dir + "/machine0/2_events.jsonl")
    }
    for r in 1...2 {
      try append(event(.round, uid: 0, round: r, wall: now - 62 + Double(r)), to: dir + "/machine0/0_events.jsonl")
    }
    try append(event(.round, uid: 1, round: 5, wall: now - 1), to: dir + "/machine0/1_events.jsonl")
    try append(event(.round, uid: 1, round: 6, wall: now), to: dir + "/machine0/1_events.jsonl")
    let s = try RunWatch(directory: dir).refresh()
    XCTAssertEqual([s.minRound, s.medianRound, s.maxRound], [6, 6, 6])
    XCTAssertEqual(s.silent, [])
    XCTAssertEqual(s.alive, 3)
    XCTAssertEqual(s.etaSeconds ?? 0, 4, accuracy: 1e-9)
  }
}
