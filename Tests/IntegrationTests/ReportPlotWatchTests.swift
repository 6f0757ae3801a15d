import Foundation
import Learning
import XCTest

/// Issue 12's acceptance on real processes: the launcher's run directory, read back by
/// `peerctl report`, `plot` and `watch`, checked against the nodes' own files.
final class ReportPlotWatchTests: XCTestCase {
  let nodes = 6
  let rounds = 12

  /// A run through the launcher: 6 nodes, Synthetic data, evaluated at round 0 and every 2.
  func startLauncher(into dir: String, extraNode: String = "") throws -> Background {
    let base = try FreePorts.base(count: nodes)
    let config = dir + "-inputs/run.ini"
    try FileManager.default.createDirectory(atPath: dir + "-inputs", withIntermediateDirectories: true)
    try
      (testConfig(dataset: "Synthetic", model: "LogisticRegression", iterations: rounds, testAfter: 2)
      .replacingOccurrences(of: "@BASE_PORT@", with: String(base)) + "\nevaluate_at_start = True\n" + extraNode)
      .write(toFile: config, atomically: true, encoding: .utf8)
    return try Background(
      [
        Testbed.script("launch_cluster.sh"), "--peerd", try ClusterHarness.binary("peerd"), "--config", config,
        "--nodes", "\(nodes)", "--degree", "2", "--log-dir", dir,
      ], output: dir + "-inputs/launcher.out")
  }

  func peerctl(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, output: String) {
    var all = ["env"] + env.map { "\($0)=\($1)" }
    all += [try ClusterHarness.binary("peerctl")] + args
    return try Testbed.shell(all, timeout: 120)
  }

  func testReportCSVPlotAndEventsAgreeWithTheNodesFiles() throws {
    let dir = NSTemporaryDirectory() + "peerd-report-\(UUID().uuidString)"
    let run = try startLauncher(into: dir)
    let status = run.wait(timeout: 180)
    let out = run.output
    XCTAssertEqual(status, 0, out)
    XCTAssertTrue(out.contains("plot of the mean test curve across nodes: \(dir)/test_curve.png"), out)
    XCTAssertTrue(out.contains("rounds done: min"), out)

    // The nodes' own records, read by the type they were written with.
    var records: [NodeResults] = []
    for uid in 0..<nodes {
      let path = "\(dir)/machine0/\(uid)_results.json"
      let data = try Data(contentsOf: URL(fileURLWithPath: path))
      records.append(try RunRecords.resultsDecoder().decode(NodeResults.self, from: data))
      XCTAssertEqual(records[uid].testAcc.rounds, [0, 2, 4, 6, 8, 10, 12])
      // Rounds in ascending order in the file itself (decentralizepy's plot reads that order).
      let text = String(decoding: data, as: UTF8.self)
      let acc = text.range(of: "\"test_acc\"")!.upperBound
      let at = ["\"2\"", "\"4\"", "\"10\"", "\"12\""].map { text.range(of: $0, range: acc..<text.endIndex)!.lowerBound }
      XCTAssertEqual(at, at.sorted(), "node \(uid)")
      // One events line per round per node, and the round-0 evaluation.
      let events = try EventLog.read(path: "\(dir)/machine0/\(uid)_events.jsonl")
      XCTAssertEqual(events.filter { $0.kind == .round }.map(\.round), Array(1...rounds), "node \(uid)")
      XCTAssertEqual(events.filter { $0.kind == .evaluation }.map(\.round), [0])
      XCTAssertEqual(events.last?.outcome, "completed")
    }

    // --json: every number equals the mean (min, max) over the nodes' files.
    let json = try peerctl(["report", dir, "--json"])
    XCTAssertEqual(json.status, 0, json.output)
    let report = try XCTUnwrap(try JSONDecoder().decode([RunReport].self, from: Data(json.output.utf8)).first)
    XCTAssertEqual(report.rows.map(\.round), [0, 2, 4, 6, 8, 10, 12])
    XCTAssertEqual(report.summary.outcomes, ["completed": nodes])
    for row in report.rows {
      let acc = records.map { $0.testAcc[row.round]! }
      XCTAssertEqual(row.nodes, nodes)
      XCTAssertEqual(row.testAcc?.mean ?? -1, acc.reduce(0, +) / Double(nodes), accuracy: 1e-9)
      XCTAssertEqual(row.testAcc?.min, acc.min())
      XCTAssertEqual(row.testAcc?.max, acc.max())
      let loss = records.map { $0.testLoss[row.round]! }
      XCTAssertEqual(row.testLoss?.mean ?? -1, loss.reduce(0, +) / Double(nodes), accuracy: 1e-9)
      let train = records.map { $0.trainLoss[row.round]! }
      XCTAssertEqual(row.trainLoss?.mean ?? -1, train.reduce(0, +) / Double(nodes), accuracy: 1e-9)
      let data = records.map { Double($0.totalDataPerN[row.round]!) }
      XCTAssertEqual(row.mbDataPerNode ?? -1, data.reduce(0, +) / Double(nodes) / 1e6, accuracy: 1e-12)
    }

    // --csv parses back to the same numbers.
    let csv = try peerctl(["report", dir, "--csv"])
    let table = try CSVTable(csv.output)
    XCTAssertEqual(table.rows.count, report.rows.count)
    for (line, row) in zip(table.rows, report.rows) {
      XCTAssertEqual(Int(line["round"]!), row.round)
      XCTAssertEqual(Double(line["test_acc_mean"]!), row.testAcc?.mean)
      XCTAssertEqual(Double(line["test_loss_max"]!), row.testLoss?.max)
      XCTAssertEqual(Double(line["train_loss_mean"]!), row.trainLoss?.mean)
      XCTAssertEqual(Double(line["mb_meta_per_node"]!), row.mbMetaPerNode)
      XCTAssertEqual(line["label"], "D-PSGD, full sharing")
    }

    // The plot: a PNG of the requested size, and its CSV has the report's numbers.
    let fig = dir + "-inputs/acc.png"
    let plot = try peerctl(["plot", dir, "--x", "rounds", "--y", "test_acc", "-o", fig, "--size", "640x480"])
    XCTAssertEqual(plot.status, 0, plot.output)
    XCTAssertEqual(try PNGSize(path: fig), PNGSize(width: 640, height: 480))
    let points = try CSVTable(String(contentsOfFile: dir + "-inputs/acc.csv", encoding: .utf8))
    XCTAssertEqual(points.rows.map { Int($0["round"]!)! }, report.rows.map(\.round))
    for (p, row) in zip(points.rows, report.rows) {
      XCTAssertEqual(Double(p["test_acc_mean"]!), row.testAcc?.mean)
      XCTAssertEqual(Double(p["test_acc_min"]!), row.testAcc?.min)
      XCTAssertEqual(Int(p["nodes"]!), nodes)
    }
    XCTAssertEqual(try PNGSize(path: dir + "/test_curve.png"), PNGSize(width: 1200, height: 750))

    // The manifest: the inputs as started, the command line, ended with status 0.
    let manifest = try XCTUnwrap(try RunManifest.read(runDirectory: dir))
    XCTAssertEqual(manifest.writer, "launch_cluster.sh")
    XCTAssertEqual(manifest.nodes, nodes)
    XCTAssertEqual(manifest.end?.status, 0)
    XCTAssertEqual(manifest.commandLine.last, dir)
    XCTAssertEqual(
      try String(contentsOfFile: dir + "/" + manifest.config.copy, encoding: .utf8),
      try String(contentsOfFile: dir + "-inputs/run.ini", encoding: .utf8))

    // Without matplotlib: one clear line naming the setup script.
    let fake = dir + "-inputs/python3"
    try "#!/bin/sh\nexit 3\n".write(toFile: fake, atomically: true, encoding: .utf8)
    chmod(fake, 0o755)
    let missing = try peerctl(["plot", dir, "-o", dir + "-inputs/x.png"], env: ["PEERD_PYTHON": fake])
    XCTAssertEqual(missing.status, 1, missing.output)
    XCTAssertTrue(
      missing.output.contains("matplotlib is not installed for \(fake): run scripts/setup.sh"), missing.output)
  }

  /// `peerctl watch` in a terminal (tmux), read from the screen: the round advances, the display
  /// is redrawn in place, and it says when the run is done.
  func testWatchRedrawsTheAdvancingRoundInATerminal() throws {
    guard (try? Testbed.shell(["tmux", "-V"]).status) == 0 else {
      throw XCTSkip("tmux is not installed (scripts/setup.sh installs it)")
    }
    let dir = NSTemporaryDirectory() + "peerd-watch-\(UUID().uuidString)"
    let server = "peerd-test-\(UUID().uuidString.prefix(8))"
    defer {
      _ = try? tmux(server, ["kill-server"])
      try? FileManager.default.removeItem(atPath: "/tmp/tmux-\(getuid())/\(server)")
    }
    // Rounds of about 0.2 s (10 steps with a 20 ms pause each): the run lasts a few seconds.
    let run = try startLauncher(into: dir, extraNode: "step_pause = 0.02\n")
    XCTAssertTrue(Background.poll(timeout: 60) { FileManager.default.fileExists(atPath: dir + "/manifest.json") })
    let watch = "\(try ClusterHarness.binary("peerctl")) watch \(dir) --interval 0.3; sleep 60"
    XCTAssertEqual(try tmux(server, ["new-session", "-d", "-s", "w", "-x", "160", "-y", "12", watch]).status, 0)
    func screen() -> String { (try? tmux(server, ["capture-pane", "-p", "-t", "w"]).output) ?? "" }
    func minRound(_ text: String) -> Int? {
      guard let r = text.range(of: "rounds done: min ") else { return nil }
      return Int(text[r.upperBound...].prefix { $0.isNumber })
    }
    var seen: [Int] = []
    XCTAssertTrue(
      Background.poll(timeout: 60) {
        let s = screen()
        if let m = minRound(s), m != seen.last { seen.append(m) }
        return seen.count >= 3
      }, "the round did not advance on the screen: \(seen)\n\(screen())")
    XCTAssertEqual(seen, seen.sorted(), "\(seen)")
    XCTAssertTrue(
      Background.poll(timeout: 90) { screen().contains("sent, done") }, "watch never said done:\n\(screen())")
    let last = screen()
    XCTAssertEqual(last.components(separatedBy: "rounds done:").count - 1, 1, "not redrawn in place:\n\(last)")
    XCTAssertTrue(last.contains("rounds done: min \(rounds)  median \(rounds)  max \(rounds)  of \(rounds)"), last)
    XCTAssertTrue(last.contains("\(nodes) ended (\(nodes) completed)"), last)
    XCTAssertTrue(last.contains("D-PSGD, full sharing"), last)
    XCTAssertEqual(run.wait(timeout: 60), 0, run.output)
  }
}

/// tmux on its own server, with no descriptor of this process but the standard ones: the server
/// it starts lives on, and an inherited descriptor would keep Foundation's Process from seeing
/// the client exit.
func tmux(_ server: String, _ args: [String]) throws -> (status: Int32, output: String) {
  let closeInherited =
    "for f in /proc/$$/fd/*; do n=${f##*/}; [ \"$n\" -gt 2 ] && eval \"exec $n>&-\"; done 2>/dev/null"
  return try Testbed.shell(["bash", "-c", closeInherited + "; exec tmux -L \"$0\" \"$@\"", server] + args, timeout: 30)
}

/// A CSV document with a header line; quoted fields may hold commas and doubled quotes.
struct CSVTable {
  var header: [String]
  var rows: [[String: String]]

  init(_ text: String) throws {
    var lines = text.split(separator: "\n").map { CSVTable.fields(String($0)) }
    let names = lines.removeFirst()
    header = names
    rows = lines.map { Dictionary(uniqueKeysWithValues: zip(names, $0).map { ($0, $1) }) }
  }

  static func fields(_ line: String) -> [String] {
    var out: [String] = []
    var field = ""
    var quoted = false
    var chars = Array(line)[...]
    while let c = chars.popFirst() {
      if quoted {
        if c == "\"" {
          if chars.first == "\"" {
            field.append("\"")
            chars.removeFirst()
          } else {
            quoted = false
          }
        } else {
          field.append(c)
        }
      } else if c == "\"" {
        quoted = true
      } else if c == "," {
        out.append(field)
        field = ""
      } else {
        field.append(c)
      }
    }
    out.append(field)
    return out
  }
}

/// Width and height from a PNG's IHDR chunk, after checking its signature.
struct PNGSize: Equatable {
  var width: Int
  var height: Int

  init(width: Int, height: Int) {
    self.width = width
    self.height = height
  }

  init(path: String) throws {
    let d = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    guard d.count > 24, d[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
      d[12..<16] == [0x49, 0x48, 0x44, 0x52]
    else { throw TestbedError(description: "\(path) is not a PNG") }
    func be(_ i: Int) -> Int { d[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
    width = be(16)
    height = be(20)
  }
}
