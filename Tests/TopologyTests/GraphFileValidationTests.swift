import Foundation
import XCTest

@testable import Topology

/// Issue 11's graph and IP-file holes: CRLF files, huge node counts, one-token quotes, and
/// warnings for duplicate edges and disconnected graphs.
final class GraphFileValidationTests: XCTestCase {
  func error(_ text: String, _ format: GraphFormat = .auto) -> GraphFileError? {
    do {
      _ = try GraphFile.parse(text, path: "g.txt", format: format)
      return nil
    } catch { return error }
  }

  func testCRLFAndCRFilesReadLikeLF() throws {
    let edges = "4\n0 1\n1 2 # comment\n2 3\n"
    let adjacency = "4\n1\n0 2\n1 3\n2\n"
    for (text, format) in [(edges, GraphFormat.edges), (adjacency, .adjacency), (edges, .auto), (adjacency, .auto)] {
      let lf = try Graph.parse(text, format: format)
      XCTAssertEqual(try Graph.parse(text.replacingOccurrences(of: "\n", with: "\r\n"), format: format), lf)
      XCTAssertEqual(try Graph.parse(text.replacingOccurrences(of: "\n", with: "\r"), format: format), lf)
      XCTAssertEqual(
        try Graph.parse("\u{FEFF}" + text.replacingOccurrences(of: "\n", with: "\r\n"), format: format), lf)
    }
    XCTAssertEqual(
      error("3\r\n0 1\r\n1 7\r\n").map { "\($0)" }, "g.txt:3: node 7 out of range 0..<3",
      "lines are counted in CRLF files")
  }

  func testHugeNodeCountsFailBeforeAllocating() {
    // 20 bytes claiming a billion nodes: it used to allocate a billion neighbour lists.
    let e = error("1000000000\n0 1\n1 2\n")
    XCTAssertEqual(e?.kind, .tooManyNodes)
    XCTAssertEqual(
      e.map { "\($0)" },
      "g.txt:1: node count '1000000000' is above the maximum of 65535 (each node needs its own TCP port)")
    XCTAssertEqual(error("99999999999999999999999999\n")?.kind, .tooManyNodes)
    XCTAssertEqual(error("65536\n")?.kind, .tooManyNodes)
    // Found by libFuzzer: a sign let the count past the check and allocate 553 million lists.
    XCTAssertEqual(
      error("+553597261\n1\n0\n").map { "\($0)" },
      "g.txt:1: node count '+553597261' is above the maximum of 65535 (each node needs its own TCP port)")
    XCTAssertNil(error("65535\n0 1\n"))
    XCTAssertEqual(error("-4\n0 1\n")?.kind, .badNodeCount)
    XCTAssertEqual(error("0\n")?.kind, .badNodeCount)
  }

  func testMessagesQuoteOneShortTokenNeverALineOrTheFile() {
    let junk = String(repeating: "x", count: 10_000)
    XCTAssertEqual(
      error("3\n0 \(junk)\n").map { "\($0)" },
      "g.txt:2: expected a node index, got '\(String(repeating: "x", count: 40))…'")
    XCTAssertEqual(error("\(junk)\n0 1\n").map { "\($0)" }.map { $0.count < 120 }, true)
    XCTAssertEqual(
      error("3 4 5\n0 1\n").map { "\($0)" }, "g.txt:1: expected the node count alone on the first line, got 3 fields")
    XCTAssertEqual(error("3\n0 1 2\n", .edges).map { "\($0)" }, "g.txt:2: expected an edge 'a b', got 3 fields")
    // A CRLF file is no longer one line, so its error cannot echo the whole file.
    XCTAssertEqual(
      error("x\r\n0 1\r\n1 2\r\n").map { "\($0)" }, "g.txt:1: expected the node count (a positive integer), got 'x'")
  }

  func testDuplicateEdgesAreWarningsNamingTheLine() throws {
    let file = try GraphFile.parse("3\n0 1\n1 2\n1 0\n0 1\n", path: "g.txt")
    XCTAssertEqual(file.graph.edgeCount, 2)
    XCTAssertEqual(
      file.warnings.map(\.description),
      [
        "g.txt:4: duplicate edge 0 1 (first at line 2); counted once",
        "g.txt:5: duplicate edge 0 1 (first at line 2); counted once",
      ])
    let many = try GraphFile.parse("2\n" + String(repeating: "0 1\n", count: 20), path: "g.txt")
    XCTAssertEqual(many.warnings.count, GraphFile.listedDuplicates + 1)
    XCTAssertEqual(many.warnings.last?.description, "g.txt: 14 more duplicate edges; each counted once")
    let adjacency = try GraphFile.parse("3\n1 2 1\n0 2\n0 1\n", path: "g.txt", format: .adjacency)
    XCTAssertEqual(adjacency.warnings.map(\.description), ["g.txt:2: node 0 lists neighbour 1 twice; counted once"])
    XCTAssertEqual(
      try GraphFile.parse("3\n1 2\n0 2\n0 1\n", format: .adjacency).warnings, [], "symmetric lists are not duplicates")
  }

  func testDisconnectedGraphsAreAWarning() throws {
    let file = try GraphFile.parse("5\n0 1\n1 2\n3 4\n", path: "g.txt")
    XCTAssertEqual(file.graph.connectivity.components, 2)
    XCTAssertEqual(
      file.warnings.map(\.description),
      ["g.txt: the graph is not connected (2 components; node 3 cannot reach node 0), so models never mix between them"]
    )
    XCTAssertEqual(try GraphFile.parse("3\n0 1\n").warnings.first?.kind, .disconnected(components: 2, unreachable: 2))
    XCTAssertEqual(try GraphFile.parse("3\n0 1\n1 2\n").warnings, [])
  }
}

final class AddressBookValidationTests: XCTestCase {
  func error(_ json: String) -> AddressBookError? {
    do {
      _ = try AddressBook.parseHosts(Data(json.utf8), path: "ip.json")
      return nil
    } catch { return error }
  }

  func testKeysHostsAndPlacementsAreChecked() throws {
    XCTAssertEqual(
      error(#"{"0": "a", "01": "b"}"#).map { "\($0)" },
      "ip.json: key '01' is not a machine id (0, 1, 2, … written without sign or leading zeros)")
    XCTAssertEqual(error(#"{"+0": "a"}"#)?.kind, .badMachineID)
    XCTAssertEqual(
      error(#"{"0": "10.0.0.1 extra"}"#).map { "\($0)" },
      "ip.json: machine 0: '10.0.0.1 extra' is not a host name or IP address")
    XCTAssertEqual(error(#"{"0": "tcp://h:1"}"#)?.kind, .badHost)
    XCTAssertEqual(error(#"{"0": 7}"#)?.kind, .badHost)
    // Found by the fuzz harness: Foundation's reason quoted the bad string with its line break.
    XCTAssertEqual(
      error("{\"0\": \"\\u00\n0\"}").map { "\($0)" },
      "ip.json: not valid JSON (Invalid hex encoded sequence in \"00⏎0\" at 9.)")
    XCTAssertEqual(error("{").map { "\($0)" }, "ip.json: not valid JSON (Unexpected end of file during JSON parse.)")
    XCTAssertEqual(
      try AddressBook.parseHosts(Data(#"{"0": "[::1]", "1": "host-b.example"}"#.utf8), path: "ip.json"),
      ["::1", "host-b.example"])
    XCTAssertEqual(
      try AddressBook.parseHosts(Data("{\r\n  \"0\": \"10.0.0.1\"\r\n}\r\n".utf8), path: "ip.json"), ["10.0.0.1"])
    XCTAssertThrowsError(try AddressBook(hosts: ["h", "h"], procsPerMachine: Int.max, basePort: 20000)) {
      XCTAssertEqual("\($0)", "2 machine(s) × 9223372036854775807 procs is more than the 65535 TCP ports")
    }
  }
}
