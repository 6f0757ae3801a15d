import Foundation
import Numerics
import XCTest

@testable import Topology

final class GraphFileTests: XCTestCase {
  func testEdgeListAndAdjacencyListReadTheSameGraph() throws {
    let edges = try Graph.parse("4\n0 1\n1 2\n2 3\n", format: .edges)
    let adjacency = try Graph.parse("4\n1\n0 2\n1 3\n2\n", format: .adjacency)
    XCTAssertEqual(edges, adjacency)
    XCTAssertEqual(edges.neighbours(of: 1), [0, 2])
    XCTAssertEqual(try Graph.parse("4\n0 1\n1 2\n2 3\n"), edges, "auto detects an edge list")
    XCTAssertEqual(try Graph.parse("4\n1\n0 2\n1 3\n2\n"), edges, "auto detects an adjacency list")
    let roundTrip = try Graph.parse(edges.serialized(format: .adjacency), format: .adjacency)
    XCTAssertEqual(roundTrip, edges)
  }

  func testMalformedFilesNameTheLine() {
    func message(_ text: String, _ format: GraphFormat = .edges) -> String {
      do {
        _ = try Graph.parse(text, path: "g.txt", format: format)
        return "accepted"
      } catch { return "\(error)" }
    }
    XCTAssertTrue(message("").contains("empty graph file"))
    XCTAssertTrue(message("x\n0 1").hasPrefix("g.txt:1:"))
    XCTAssertTrue(message("3\n0 1\n1 5\n").hasPrefix("g.txt:3: node 5 out of range"))
    XCTAssertTrue(message("3\n0 0\n").contains("self-loop"))
    XCTAssertTrue(message("3\n0 a\n").contains("expected a node index"))
    XCTAssertTrue(message("3\n0 1 2\n").contains("expected an edge"))
    XCTAssertTrue(message("2\n1\n0\n1\n", .adjacency).contains("more adjacency lines"))
    XCTAssertThrowsError(try Graph.read(path: "/nonexistent/graph.txt"))
  }
}

final class GeneratorTests: XCTestCase {
  func testRegularGraphsAreRegularConnectedAndSeeded() throws {
    for (n, d) in [(16, 4), (96, 4), (10, 3), (7, 6)] {
      var rng = Xoshiro256(seed: 1)
      let g = try Graph.regular(nodes: n, degree: d, rng: &rng)
      XCTAssertTrue((0..<n).allSatisfy { g.degree(of: $0) == d }, "\(n),\(d)")
      XCTAssertTrue(g.isConnected)
      var again = Xoshiro256(seed: 1)
      XCTAssertEqual(try Graph.regular(nodes: n, degree: d, rng: &again), g)
    }
    var a = Xoshiro256(seed: 1)
    var b = Xoshiro256(seed: 2)
    XCTAssertNotEqual(
      try Graph.regular(nodes: 16, degree: 4, rng: &a), try Graph.regular(nodes: 16, degree: 4, rng: &b))
    var r = Xoshiro256(seed: 3)
    XCTAssertThrowsError(try Graph.regular(nodes: 5, degree: 3, rng: &r))
  }

  func testOtherGenerators() throws {
    XCTAssertEqual(Graph.ring(nodes: 5).degreeStatistics.histogram, [2: 5])
    XCTAssertEqual(Graph.fullyConnected(nodes: 5).edgeCount, 10)
    let star = Graph.star(nodes: 6)
    XCTAssertEqual(star.degree(of: 0), 5)
    XCTAssertEqual(star.degreeStatistics.minimum, 1)
    var rng = Xoshiro256(seed: 4)
    let sw = try Graph.smallWorld(nodes: 20, k: 4, p: 0.1, rng: &rng)
    XCTAssertEqual(sw.edgeCount, 40)
    let er = try Graph.erdosRenyi(nodes: 20, p: 0.3, rng: &rng)
    XCTAssertTrue(er.isConnected)
  }
}

final class MixingWeightTests: XCTestCase {
  /// Hand-computed: a path 0–1–2 plus a star centre 1 with leaf 3. Degrees: d0=1, d1=3, d2=2, d3=1.
  func testMetropolisHastingsByHand() {
    let g = Graph(nodeCount: 4, edges: [(0, 1), (1, 2), (2, 0), (1, 3)])
    // degrees: 0:2, 1:3, 2:2, 3:1
    let w1 = MixingWeights.metropolisHastings(node: 1, degree: 3, neighbourDegrees: [0: 2, 2: 2, 3: 1])
    XCTAssertEqual(w1.weights, [0: 0.25, 2: 0.25, 3: 0.25])
    XCTAssertEqual(w1.selfWeight, 0.25, accuracy: 1e-12)
    let w0 = MixingWeights.metropolisHastings(node: 0, degree: 2, neighbourDegrees: [1: 3, 2: 2])
    XCTAssertEqual(w0.weights[1]!, 0.25)
    XCTAssertEqual(w0.weights[2]!, 1.0 / 3.0, accuracy: 1e-12)
    XCTAssertEqual(w0.selfWeight, 1 - 0.25 - 1.0 / 3.0, accuracy: 1e-12)
    // The full matrix is symmetric and doubly stochastic.
    var m = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 4)
    for i in 0..<4 {
      var nd: [Int: Int] = [:]
      for j in g.neighbours(of: i) { nd[j] = g.degree(of: j) }
      let w = MixingWeights.metropolisHastings(node: i, degree: g.degree(of: i), neighbourDegrees: nd)
      m[i][i] = w.selfWeight
      for (j, v) in w.weights { m[i][j] = v }
    }
    for i in 0..<4 {
      XCTAssertEqual(m[i].reduce(0, +), 1, accuracy: 1e-12)
      XCTAssertEqual((0..<4).map { m[$0][i] }.reduce(0, +), 1, accuracy: 1e-12)
      for j in 0..<4 { XCTAssertEqual(m[i][j], m[j][i], accuracy: 1e-12) }
    }
    // A dead neighbour: weights recomputed over the live ones still sum to one.
    let live = MixingWeights.metropolisHastings(node: 1, degree: 2, neighbourDegrees: [0: 2, 2: 2])
    XCTAssertEqual(live.selfWeight + live.weights.values.reduce(0, +), 1, accuracy: 1e-12)
    XCTAssertEqual(live.weights[0]!, 1.0 / 3.0, accuracy: 1e-12)
  }
}

final class AddressBookTests: XCTestCase {
  func write(_ text: String) -> String {
    let path = NSTemporaryDirectory() + "ip-\(UUID().uuidString).json"
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
  }

  func testUidsPortsAndEndpoints() throws {
    let book = try AddressBook(
      jsonPath: write(#"{"0": "10.0.0.1", "1": "host-b"}"#), procsPerMachine: 48, basePort: 20000)
    XCTAssertEqual(book.totalNodes, 96)
    XCTAssertEqual(book.uid(machine: 1, rank: 2), 50)
    XCTAssertTrue(book.location(of: 50) == (1, 2))
    XCTAssertEqual(book.endpoint(of: 50), "tcp://host-b:20050")
    XCTAssertEqual(book.endpoint(of: 3), "tcp://10.0.0.1:20003")
    XCTAssertEqual(book.bindEndpoint(of: 3), "tcp://10.0.0.1:20003")
    XCTAssertEqual(book.bindEndpoint(of: 50), book.endpoint(of: 50))
    XCTAssertEqual(book.ports(ofMachine: 1), 20048...20095)
  }

  func testBadFilesAreClearErrors() {
    func message(_ text: String) -> String {
      do {
        _ = try AddressBook(jsonPath: write(text), procsPerMachine: 1, basePort: 20000)
        return "accepted"
      } catch { return "\(error)" }
    }
    XCTAssertTrue(message("[1,2]").contains("expected a JSON object"))
    XCTAssertTrue(message("{").contains("not valid JSON"))
    XCTAssertTrue(message(#"{"a": "h"}"#).contains("not a machine id"))
    XCTAssertTrue(message(#"{"0": ""}"#).contains("non-empty host"))
    XCTAssertTrue(message(#"{"0": "h", "2": "h"}"#).contains("1 is missing"))
    XCTAssertThrowsError(try AddressBook(hosts: ["h"], procsPerMachine: 10, basePort: 65530))
  }
}
