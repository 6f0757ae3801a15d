import Foundation
import Numerics
import Sharing
import Topology
import Transport
import XCTest

@testable import Learning

/// Every sharing method through D-PSGD on real nodes of the embedded network: each learns
/// within a point of full sharing on the same seed, every share goes through the runtime's one
/// path (made once per round, framed once per recipient group, received, averaged), and each
/// sends what its method says.
final class EmbeddedSharingTests: XCTestCase {
  static let rounds = 60

  /// 8 nodes of a 4-regular graph, the optimizer and local steps (SGD lr 0.05, 5 steps
  /// of batch 16 a round) on 1,000 Gaussian-mixture samples each, 2,000 test samples.
  func run(_ sharing: SharingSettings) throws -> EmbeddedCluster {
    var rng = Xoshiro256(seed: 3)
    let graph = try Graph.regular(nodes: 8, degree: 4, rng: &rng)
    let c = try EmbeddedCluster(graph: graph) {
      $0.iterations = Self.rounds
      $0.testAfter = Self.rounds
      $0.sharing = sharing
      $0.optimizer.learningRate = 0.05
      $0.dataset.synthetic.samplesPerNode = 1000
      $0.dataset.synthetic.testSamples = 2000
    }
    c.startAll()
    c.run()
    return c
  }

  /// Mean final test accuracy of the nodes, after checking that each completed every round with
  /// every neighbour and nothing it received was refused.
  func accuracy(_ c: EmbeddedCluster, _ label: String) throws -> Double {
    var total = 0.0
    for uid in 0..<c.graph.nodeCount {
      let f = try XCTUnwrap(c.finish(uid), "\(label) node \(uid)")
      XCTAssertNil(f.error, label)
      XCTAssertEqual(f.outcome, .completed, "\(label) node \(uid)")
      XCTAssertEqual(f.rejected, [:], "\(label) node \(uid)")
      for r in 1...Self.rounds {
        XCTAssertEqual(f.results.mixedWith[r], c.graph.neighbours(of: uid), "\(label) node \(uid) round \(r)")
      }
      total += f.accuracy
    }
    return total / Double(c.graph.nodeCount)
  }

  /// Model bytes a node sent per round, averaged over the nodes.
  func bytesPerRound(_ c: EmbeddedCluster) -> Double {
    let total = (0..<c.graph.nodeCount).reduce(0) { $0 + (c.finish($1)?.results.totalBytes[Self.rounds] ?? 0) }
    return Double(total) / Double(c.graph.nodeCount * Self.rounds)
  }

  func testEveryMethodLearnsWithinAPointOfFullSharing() throws {
    let full = try run(SharingSettings(name: "Sharing"))
    let fullAccuracy = try accuracy(full, "Sharing")
    let fullBytes = bytesPerRound(full)
    XCTAssertGreaterThan(fullAccuracy, 0.8)
    // (settings, largest share of full sharing's bytes it may send)
    let methods: [(SharingSettings, Double)] = [
      (SharingSettings(name: "PartialModel", alpha: 0.1), 0.15),
      (SharingSettings(name: "PartialModel", alpha: 0.1, accumulation: true, accumulateAveragingChanges: true), 0.15),
      (SharingSettings(name: "RandomAlpha"), 0.6),
      (SharingSettings(name: "SubSampling", alpha: 0.1), 0.13),
      (SharingSettings(name: "TopK", alpha: 0.1), 0.15),
      (SharingSettings(name: "Quantize", bits: 8), 0.32),
      (SharingSettings(name: "Quantize", bits: 1), 0.11),
      (SharingSettings(name: "Quantize", alpha: 0.1, bits: 8), 0.13),
    ]
    for (settings, byteShare) in methods {
      let label = "\(settings.name) alpha \(settings.alpha) bits \(settings.bits ?? 32)"
      let c = try run(settings)
      let a = try accuracy(c, label)
      XCTAssertGreaterThanOrEqual(a, fullAccuracy - 0.01, "\(label): \(a) against full sharing's \(fullAccuracy)")
      XCTAssertLessThanOrEqual(bytesPerRound(c), byteShare * fullBytes, label)
    }
  }
}

/// DESIGN decision 3: a synchronous run gives bit-identical results whatever the timing. Node 3
/// trains four times slower, so its neighbours wait for it while the nodes two hops away are
/// already a round ahead and send their next share early; every node's final model must be the
/// same bits as in the run where all are equally fast.
final class EmbeddedSharingTimingTests: XCTestCase {
  func finalModels(_ sharing: SharingSettings, slow: Bool) throws -> [[Float]] {
    var rng = Xoshiro256(seed: 3)
    let graph = try Graph.regular(nodes: 8, degree: 4, rng: &rng)
    let c = try EmbeddedCluster(graph: graph) {
      $0.iterations = 20
      $0.testAfter = 0
      $0.sharing = sharing
      if slow && $0.uid == 3 { $0.slowdown = 4 }
    }
    c.startAll()
    c.run()
    return try (0..<8).map { uid in
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertNil(f.error)
      XCTAssertEqual(f.outcome, .completed)
      return f.parameters
    }
  }

  func testSynchronousResultsDoNotDependOnTiming() throws {
    // CHOCO's copies are the state that timing could reach; the float32 methods are the control.
    let methods = [
      SharingSettings(name: "Sharing"), SharingSettings(name: "PartialModel", alpha: 0.1),
      SharingSettings(name: "Quantize", bits: 8), SharingSettings(name: "Quantize", bits: 1),
    ]
    for settings in methods {
      let even = try finalModels(settings, slow: false)
      let uneven = try finalModels(settings, slow: true)
      for uid in 0..<8 {
        let same = zip(even[uid], uneven[uid]).allSatisfy { $0.bitPattern == $1.bitPattern }
        XCTAssertTrue(same, "\(settings.name) bits \(settings.bits ?? 32): node \(uid) differs")
      }
    }
  }
}
