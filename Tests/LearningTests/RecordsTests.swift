import Foundation
import XCTest

@testable import Learning

/// The records of a run: the results file's layout, the manifest, and the report built from them.
final class RecordsTests: XCTestCase {
  func sample(uid: Int, rounds: [Int], acc: (Int) -> Double, outcome: String = "completed") -> NodeResults {
    var r = NodeResults()
    r.uid = uid
    r.algorithm = "dpsgd"
    r.sharing = "Sharing"
    r.outcome = outcome
    for round in 1...(rounds.max() ?? 1) {
      r.totalBytes[round] = 1000 * round + uid
      r.totalMeta[round] = 10 * round
      r.totalDataPerN[round] = 990 * round + uid
      r.elapsedTime[round] = 0.5 * Double(round) + Double(uid) / 100
    }
    for round in rounds {
      r.testAcc[round] = acc(round)
      r.testLoss[round] = 1 / Double(round + 1)
      r.trainLoss[round] = 2 / Double(round + 1)
    }
    r.roundsCompleted = rounds.max() ?? 0
    return r
  }

  /// decentralizepy's eval/plot.py takes its x axis from a series' key order: rounds ascend as
  /// numbers ("2" before "10"), and the file decodes back to the same record.
  func testResultsFileListsRoundsInAscendingOrderAndRoundTrips() throws {
    var r = sample(uid: 3, rounds: [0, 2, 10, 100, 20], acc: { Double($0) / 3 })
    r.trainBatchLoss[5] = .nan
    r.neighbourBytes = ["7": NeighbourTraffic(), "12": NeighbourTraffic()]
    r.peerEvents = [PeerEvent(kind: .down, peer: 7, round: 4, time: 1.5, reason: "silent \"3\" s\n")]
    let data = try OrderedJSONEncoder().encode(r)
    let text = String(decoding: data, as: UTF8.self)
    let acc = try XCTUnwrap(text.range(of: "\"test_acc\"")).upperBound
    let keys = ["\"0\"", "\"2\"", "\"10\"", "\"20\"", "\"100\""].map { text.range(of: $0, range: acc..<text.endIndex)! }
    XCTAssertEqual(keys.map(\.lowerBound), keys.map(\.lowerBound).sorted(), text)
    XCTAssertTrue(text.contains("\"nan\""))
    let back = try RunRecords.resultsDecoder().decode(NodeResults.self, from: data)
    XCTAssertTrue(back.trainBatchLoss[5]!.isNaN)
    var compared = back
    compared.trainBatchLoss = r.trainBatchLoss
    XCTAssertEqual(compared.testAcc, r.testAcc)
    r.trainBatchLoss = compared.trainBatchLoss
    XCTAssertEqual(compared, r)
    // Python's json module reads the same text (when python3 is there).
    let compact = try OrderedJSONEncoder(pretty: false).encode(r)
    XCTAssertEqual(
      try RunRecords.resultsDecoder().decode(NodeResults.self, from: compact).testLoss, r.testLoss)
    XCTAssertFalse(String(decoding: compact, as: UTF8.self).contains("\n"))
  }

  func testReportAggregatesAcrossNodesAndStopsAtTheFewestRoundsAFinishedNodeReached() throws {
    // A random walk: node 1 ends at round 30, the others at 40; node 2 was lost at round 20.
    let nodes = [
      sample(uid: 0, rounds: [10, 20, 30, 40], acc: { Double($0) }),
      sample(uid: 1, rounds: [10, 20, 30], acc: { Double($0) + 2 }),
      sample(uid: 2, rounds: [10, 20], acc: { Double($0) + 4 }, outcome: "running"),
      sample(uid: 3, rounds: [10, 20, 30, 40], acc: { Double($0) + 6 }),
    ]
    var manifest = RunManifest(writer: "test", commandLine: [], config: .init(source: "c.ini", copy: "inputs/c.ini"))
    manifest.nodes = 5
    manifest.end = RunManifest.End(status: 1)
    let run = RunRecords(
      directory: "/runs/a", nodes: nodes.map { RunRecords.Node(path: "", results: $0) }, manifest: manifest)
    let report = RunReport(run)
    XCTAssertEqual(report.label, "D-PSGD, full sharing")
    XCTAssertEqual(report.cutAtRound, 30)
    XCTAssertEqual(report.rows.map(\.round), [10, 20, 30])
    XCTAssertEqual(report.rows.map(\.nodes), [4, 4, 3])
    XCTAssertEqual(report.rows[0].testAcc, Spread([10, 12, 14, 16]))
    XCTAssertEqual(report.rows[2].testAcc?.mean ?? 0, (30.0 + 32 + 36) / 3, accuracy: 1e-12)
    XCTAssertEqual(report.rows[1].mbDataPerNode ?? 0, (4 * 990 * 20 + 6) / 4 / 1e6, accuracy: 1e-15)
    XCTAssertEqual(report.summary.outcomes, ["completed": 3, "lost": 1, "missing": 1])
    // The final figure: each node's last evaluation.
    XCTAssertEqual(report.summary.finalMetric, Spread([40, 32, 24, 46]))
    XCTAssertTrue(report.notes.contains { $0.contains("rows stop at round 30") }, "\(report.notes)")
    XCTAssertTrue(report.table().contains("note: nodes ended at different rounds (30–40)"))
    XCTAssertTrue(report.summaryLine.contains("5 nodes (3 completed, 1 lost, 1 missing)"), report.summaryLine)

    // The CSV carries the same numbers, unrounded.
    let csv = RunReport.csv([report]).split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false)
    }
    let header = csv[0].map(String.init)
    XCTAssertEqual(header, RunReport.csvHeader)
    let col = header.firstIndex(of: "test_acc_mean")! + 1  // the label's comma is inside quotes
    XCTAssertEqual(Double(csv[3][col]), report.rows[2].testAcc?.mean)
    // Same labels from the records get the folder name added.
    let two = RunReport.make([run, RunRecords(directory: "/runs/b", nodes: run.nodes)])
    XCTAssertEqual(two.map(\.label), ["D-PSGD, full sharing (a)", "D-PSGD, full sharing (b)"])
  }

  /// FedAvg: only the server evaluates; its clients end at the rounds they were sampled in, which
  /// neither cut the rows nor set the rounds reached.
  func testFedAvgRowsAndRoundsFollowTheServer() throws {
    var server = sample(uid: 2, rounds: [10, 20, 30, 40], acc: { Double($0) })
    server.algorithm = "fedavg"
    server.role = "server"
    var clients: [NodeResults] = []
    for (uid, last) in [(0, 37), (1, 15)] {
      var c = NodeResults()
      c.uid = uid
      c.algorithm = "fedavg"
      c.role = "client"
      c.outcome = "completed"
      for round in 1...last { c.totalBytes[round] = round }
      c.roundsCompleted = last
      clients.append(c)
    }
    var manifest = RunManifest(writer: "test", commandLine: [], config: .init(source: "c.ini", copy: "inputs/c.ini"))
    manifest.nodes = 2
    let run = RunRecords(
      directory: "/runs/f", nodes: (clients + [server]).map { RunRecords.Node(path: "", results: $0) },
      manifest: manifest)
    let report = RunReport(run)
    XCTAssertNil(report.cutAtRound)
    XCTAssertEqual(report.rows.map(\.round), [10, 20, 30, 40])
    XCTAssertEqual([report.summary.minRounds, report.summary.maxRounds], [40, 40])
    XCTAssertTrue(report.summaryLine.contains("2 clients and the server (3 completed)"), report.summaryLine)
  }

  func testManifestIsWrittenOnceAndReadBack() throws {
    let dir = NSTemporaryDirectory() + "peerd-manifest-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try "[NODE]\n".write(toFile: dir + "/c.ini", atomically: true, encoding: .utf8)
    let input = try RunManifest.copyInput(dir + "/c.ini", as: "c.ini", into: dir)
    XCTAssertEqual(input.copy, "inputs/c.ini")
    XCTAssertEqual(try String(contentsOfFile: dir + "/inputs/c.ini", encoding: .utf8), "[NODE]\n")
    var m = RunManifest(writer: "peerd", commandLine: ["peerd", "--uid", "0"], config: input)
    XCTAssertTrue(try m.writeIfAbsent(runDirectory: dir))
    m.writer = "other"
    XCTAssertFalse(try m.writeIfAbsent(runDirectory: dir))
    XCTAssertEqual(try RunManifest.read(runDirectory: dir)?.writer, "peerd")
    XCTAssertNil(try RunManifest.read(runDirectory: dir + "/inputs"))
  }
}
