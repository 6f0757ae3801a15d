import Foundation
import Numerics
import Sharing
import Topology
import Transport
import XCTest

@testable import Learning

/// Every sharing method under RWM, SwarmAvg, FedAvg and Epidemic Learning on the embedded
/// network (EmbeddedSharingTests does D-PSGD): through the runtime's one sharing path, each run
/// completes with nothing refused, mixes (the nodes' models end closer together than those of
/// nodes that train alone, by a quarter at least), learns as well as full sharing under the
/// same algorithm, and sends no more than its share of full sharing's bytes.
///
/// What could break is where an algorithm differs from D-PSGD: RWM sends to one neighbour a
/// round (CHOCO keeps a copy per recipient), SwarmAvg combines the latest share of each
/// neighbour whatever its age, FedAvg's server sends without training, EL to random nodes that
/// are not neighbours. Two did break, and the spread caught both: CHOCO averaging against a
/// stale copy of itself (8-bit RWM models ended 7.6× as far apart as models that never mixed),
/// and PartialModel on FedAvg's server sending the same tenth of the global model every round
/// (clients as far apart as alone). 100 iterations take about 140 s in a debug build.
final class EmbeddedSharingAlgorithmsTests: XCTestCase {
  static let iterations = Int(ProcessInfo.processInfo.environment["PEERD_SHARING_MATRIX_ITERATIONS"] ?? "") ?? 100

  /// The methods and the bytes of values each sends per parameter of the model, against full
  /// sharing's 4: a tenth of them as float32 plus at most a byte an index (PartialModel, TopK),
  /// a tenth and a seed (SubSampling), RandomAlpha's default list, one byte or one bit a value
  /// (CHOCO's deltas; its one keyframe per pair is allowed for separately).
  static let methods: [(settings: SharingSettings, byteShare: Double)] = [
    (SharingSettings(name: "PartialModel", alpha: 0.1), 0.13),
    (SharingSettings(name: "SubSampling", alpha: 0.1), 0.1),
    (SharingSettings(name: "TopK", alpha: 0.1), 0.13),
    (SharingSettings(name: "RandomAlpha"), 0.6),
    (SharingSettings(name: "Quantize", bits: 8), 0.25),
    (SharingSettings(name: "Quantize", bits: 1), 1.0 / 32),
  ]
  /// Payload bytes a message may carry besides its values: the index stream's or seed's
  /// prefix, the block scales, CHOCO's copy tag. The model here is small (P = 610), so they weigh.
  static let overhead = 96.0

  /// What a run left: the nodes' mean final accuracy, how far apart their models ended (mean
  /// distance to their mean model), and what they sent.
  struct Run {
    var accuracy: Double
    var spread: Double
    var bytes: Int
    var messages: Int
    /// (sender, recipient) pairs with at least one message: a CHOCO pair's first is a keyframe.
    var pairs: Int
  }

  func run(_ algorithm: String, _ sharing: SharingSettings, alone: Bool = false) throws -> Run {
    var rng = Xoshiro256(seed: 3)
    let graph = try Graph.regular(nodes: 8, degree: 4, rng: &rng)
    let c = try EmbeddedCluster(graph: graph) {
      $0.algorithm = algorithm
      $0.iterations = Self.iterations
      $0.testAfter = Self.iterations
      $0.sharing = sharing
      $0.optimizer.learningRate = 0.05
      $0.dataset.synthetic.samplesPerNode = 1000
      $0.dataset.synthetic.testSamples = 2000
      $0.algorithmSettings.swarmGamma = 2
      $0.algorithmSettings.syncTimeout = 0.5
      $0.algorithmSettings.rwmTimeout = 1
    }
    if alone { c.adjustParts = { _, parts in parts.sharing = TrainsAlone() } }
    c.startAll()
    c.run()
    let label = "\(algorithm) \(sharing.name) alpha \(sharing.alpha) bits \(sharing.bits ?? 32)\(alone ? " alone" : "")"
    var run = Run(accuracy: 0, spread: 0, bytes: 0, messages: 0, pairs: 0)
    var models: [[Float]] = []
    for uid in c.uids {
      let f = try XCTUnwrap(c.finish(uid), "\(label) node \(uid)")
      XCTAssertNil(f.error, label)
      XCTAssertEqual(f.outcome, .completed, "\(label) node \(uid)")
      XCTAssertEqual(f.rejected, [:], "\(label) node \(uid)")
      for peer in f.results.neighbourBytes.values where peer.sentMessages > 0 {
        run.bytes += peer.sentData + peer.sentMeta
        run.messages += peer.sentMessages
        run.pairs += 1
      }
      // FedAvg's server holds the global model; the graph's nodes are its clients.
      if uid < graph.nodeCount {
        models.append(f.parameters)
        if algorithm != "fedavg" { run.accuracy += f.accuracy / Double(graph.nodeCount) }
      } else {
        run.accuracy = f.accuracy
      }
    }
    let p = models[0].count
    var mean = [Float](repeating: 0, count: p)
    for m in models { for i in 0..<p { mean[i] += m[i] / Float(models.count) } }
    for m in models {
      var d: Float = 0
      for i in 0..<p { d += (m[i] - mean[i]) * (m[i] - mean[i]) }
      run.spread += Double(d.squareRoot()) / Double(models.count)
    }
    print(
      "\(label): accuracy \(run.accuracy), spread \(run.spread), \(run.messages) messages, \(run.bytes / max(1, run.messages)) bytes each"
    )
    return run
  }

  /// Every method under `algorithm` against full sharing and against training alone.
  func checkEveryMethod(_ algorithm: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let alone = try run(algorithm, SharingSettings(name: "Sharing"), alone: true)
    let full = try run(algorithm, SharingSettings(name: "Sharing"))
    let fullMessage = Double(full.bytes) / Double(full.messages)
    XCTAssertLessThan(full.spread, alone.spread / 4, "\(algorithm): full sharing mixes", file: file, line: line)
    for (settings, byteShare) in Self.methods {
      let label = "\(algorithm) \(settings.name) alpha \(settings.alpha) bits \(settings.bits ?? 32)"
      let r = try run(algorithm, settings)
      // The issue's bar for D-PSGD at round 100: a point; 1 bit learns more slowly (it asks 85 %
      // by round 200 there), and its copies of a peer that rarely sends lag (RWM, EL): two.
      let tolerance = settings.bits == 1 ? 0.02 : 0.01
      XCTAssertGreaterThanOrEqual(
        r.accuracy, full.accuracy - tolerance, "\(label): \(r.accuracy) against full sharing's \(full.accuracy)",
        file: file, line: line)
      XCTAssertLessThan(
        r.spread, 0.75 * alone.spread, "\(label): spread \(r.spread), training alone \(alone.spread)", file: file,
        line: line)
      // Payloads, the header aside: the values at the method's rate, plus the overhead.
      let header = Double(WireHeader.size)
      let fullPayload = fullMessage - header
      let keyframes = settings.name == "Quantize" ? Double(r.pairs) * fullPayload : 0
      let allowed = (byteShare * fullPayload + Self.overhead) * Double(r.messages) + keyframes
      XCTAssertLessThanOrEqual(
        Double(r.bytes) - header * Double(r.messages), allowed, label, file: file, line: line)
    }
  }

  func testEveryMethodUnderRandomWalk() throws { try checkEveryMethod("rwm") }

  func testEveryMethodUnderSwarmAvg() throws { try checkEveryMethod("swarmavg") }

  func testEveryMethodUnderFedAvg() throws { try checkEveryMethod("fedavg") }

  func testEveryMethodUnderEpidemicLearning() throws { try checkEveryMethod("epidemic") }
}

/// Full sharing that never mixes: the nodes send as usual and keep their own models, the
/// baseline of how far apart models drift without averaging.
final class TrainsAlone: SharingStrategy {
  let name = "Sharing"
  var sharesWholeModel: Bool { true }

  func makeShares(of parameters: FloatBuffer, round: Int, recipients: [Int]) -> [OutgoingShare] {
    [OutgoingShare(share: Share(dense: parameters.array), recipients: recipients)]
  }

  func average(
    own: FloatBuffer, selfWeight: Double, received: [(sender: Int, share: Share, weight: Double)],
    using aggregator: Aggregator
  ) -> AveragingReport { AveragingReport() }

  func checkpointState() -> [UInt8] { [] }
  func restoreState(_ bytes: [UInt8]) throws(SharingError) {}
}
