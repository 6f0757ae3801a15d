import Foundation
import Numerics
import Topology
import Transport
import XCTest

@testable import Learning

/// D-PSGD on the embedded network: learning, determinism, bytes.
final class EmbeddedDPSGDTests: XCTestCase {
  func testDPSGDConvergesAndNodesAgree() throws {
    var rng = Xoshiro256(seed: 1)
    let graph = try Graph.regular(nodes: 6, degree: 2, rng: &rng)
    let c = try EmbeddedCluster(graph: graph) { $0.iterations = 30 }
    c.startAll()
    c.run()
    let models = try (0..<6).map { uid -> [Float] in
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertNil(f.error)
      XCTAssertEqual(f.outcome, .completed)
      XCTAssertGreaterThan(f.accuracy, 0.7)
      XCTAssertEqual(f.results.mixedWith[30], graph.neighbours(of: uid))
      return f.parameters
    }
    // Gossip averaging pulls the models together: nodes end close to their mean.
    let mean = (0..<models[0].count).map { i in models.map { $0[i] }.reduce(0, +) / 6 }
    let spread = models.map { m in zip(m, mean).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }.max()!
    XCTAssertLessThan(spread, 0.01 * mean.map { $0 * $0 }.reduce(0, +))
  }

  func testSameSeedGivesBitIdenticalModelsAndResults() throws {
    func run() throws -> [(parameters: [UInt32], results: NodeResults)] {
      let c = try EmbeddedCluster(graph: Graph.ring(nodes: 4)) { $0.iterations = 8 }
      c.startAll()
      c.run()
      return try (0..<4).map { uid in
        let f = try XCTUnwrap(c.finish(uid))
        return (f.parameters.map(\.bitPattern), f.results)
      }
    }
    let a = try run()
    let b = try run()
    for uid in 0..<4 {
      XCTAssertEqual(a[uid].parameters, b[uid].parameters, "node \(uid)")
      // On the virtual clock even the timings are identical.
      XCTAssertEqual(a[uid].results, b[uid].results, "node \(uid)")
    }
  }

  /// Full sharing sends exactly one 64 + 4P byte model per neighbour per round.
  func testBytesPerRoundAreExact() throws {
    let c = try EmbeddedCluster(graph: Graph.ring(nodes: 5)) { $0.iterations = 6 }
    c.startAll()
    c.run()
    let f = try XCTUnwrap(c.finish(0))
    let p = f.results.parameterCount
    XCTAssertEqual(f.results.totalDataPerN[6], 6 * 2 * 4 * p)
    XCTAssertEqual(f.results.totalMeta[6], 6 * 2 * 64)
    let models = c.network.frames.filter { $0.from == 0 && $0.kind == MessageKind.model.rawValue }
    XCTAssertEqual(models.count, 12)
    XCTAssertTrue(models.allSatisfy { $0.bytes == 64 + 4 * p })
  }
}
