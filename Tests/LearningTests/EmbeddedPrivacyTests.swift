import Foundation
import Numerics
import Sharing
import Topology
import XCTest

@testable import Learning

/// Differential privacy on what D-PSGD nodes share, on the embedded network.
final class EmbeddedPrivacyTests: XCTestCase {
  func run(_ privacy: PrivacySettings?, rounds: Int = 12) throws -> [EmbeddedCluster.Finish] {
    let c = try EmbeddedCluster(graph: Graph.ring(nodes: 5)) { plan in
      plan.iterations = rounds
      plan.testAfter = rounds
      plan.privacy = privacy
    }
    c.startAll()
    c.run()
    return try (0..<5).map { uid in
      let f = try XCTUnwrap(c.finish(uid))
      XCTAssertNil(f.error)
      XCTAssertEqual(f.outcome, .completed)
      return f
    }
  }

  /// A clip no update reaches and no noise: the release is the model itself, so the run is the
  /// plain run bit for bit (the release path neither perturbs nor reorders anything).
  func testWithoutClippingOrNoiseTheRunIsUnchanged() throws {
    let plain = try run(nil)
    let released = try run(PrivacySettings(clip: 1e9, sigma: 0))
    for uid in 0..<5 {
      XCTAssertEqual(plain[uid].parameters.map(\.bitPattern), released[uid].parameters.map(\.bitPattern), "node \(uid)")
      let p = try XCTUnwrap(released[uid].results.privacy)
      XCTAssertEqual(p.roundsShared, 12)
      XCTAssertEqual(p.roundsClipped, 0)
      XCTAssertEqual(p.epsilon, .infinity)
      XCTAssertEqual(p.updateNorm.rounds, Array(1...12))
      XCTAssertNil(plain[uid].results.privacy)
    }
  }

  /// With noise the run is still repeatable (seeded noise), every round is a release, and the
  /// ε recorded is the accountant's for that many releases.
  func testNoisyRunsAreRepeatableAndAccounted() throws {
    let settings = PrivacySettings(clip: 0.5, sigma: 0.05, delta: 1e-5)
    let a = try run(settings)
    let b = try run(settings)
    let plain = try run(nil)
    for uid in 0..<5 {
      XCTAssertEqual(a[uid].parameters.map(\.bitPattern), b[uid].parameters.map(\.bitPattern), "node \(uid)")
      XCTAssertNotEqual(a[uid].parameters, plain[uid].parameters)
      let p = try XCTUnwrap(a[uid].results.privacy)
      XCTAssertEqual(p.roundsShared, 12)
      XCTAssertGreaterThan(p.roundsClipped, 0, "the first updates of a fresh model are longer than 0.5")
      XCTAssertEqual(
        p.epsilon, PrivacyAccountant.rdpEpsilon(noiseMultiplier: 0.025, releases: 12, delta: 1e-5), accuracy: 1e-9)
      XCTAssertLessThan(p.epsilonExact, p.epsilon)
      XCTAssertGreaterThan(a[uid].accuracy, plain[uid].accuracy - 0.1, "node \(uid) still learns under σ = 0.05")
    }
  }

  /// A node killed and resumed from its checkpoint continues its public state and its count of
  /// releases: ε covers the releases before the checkpoint and after the resume.
  func testAResumedNodeContinuesItsReleases() throws {
    let settings = PrivacySettings(clip: 0.5, sigma: 0.05)
    let c = try EmbeddedCluster(graph: Graph.ring(nodes: 5)) { plan in
      plan.iterations = 60
      plan.testAfter = 60
      plan.checkpointEvery = 5
      plan.peerTimeout = 1
      plan.privacy = settings
    }
    c.startAll()
    c.network.kill(1, at: 1.25)
    c.start(1, at: 4, resume: true)
    c.run()
    let resumed = try XCTUnwrap(c.finish(1))
    XCTAssertNil(resumed.error)
    XCTAssertEqual(resumed.results.resumes, 1)
    let p = try XCTUnwrap(resumed.results.privacy)
    // Checkpoint at round 10, crash in round 12 or 13: rounds 1…10 from the checkpoint, then
    // every round from the one its neighbours were in when it came back.
    let rounds = p.updateNorm.rounds
    let rejoined = try XCTUnwrap(rounds.first { $0 > 10 })
    XCTAssertEqual(rounds, Array(1...10) + Array(rejoined...60))
    XCTAssertEqual(p.roundsShared, rounds.count)
    XCTAssertEqual(
      p.epsilon, PrivacyAccountant.rdpEpsilon(noiseMultiplier: 0.025, releases: rounds.count, delta: settings.delta),
      accuracy: 1e-9)
  }

  /// A checkpoint written without differential privacy cannot be resumed with it: its model was
  /// shared without noise, and no count of releases would be honest.
  func testACheckpointWithoutPrivacyIsNotResumedWithIt() throws {
    let c = try EmbeddedCluster(graph: Graph.ring(nodes: 5)) { plan in
      plan.iterations = 40
      plan.checkpointEvery = 5
      plan.peerTimeout = 1
    }
    c.startAll()
    c.network.kill(1, at: 1.25)
    c.configure = { plan in
      plan.iterations = 40
      plan.checkpointEvery = 5
      plan.peerTimeout = 1
      if plan.uid == 1 { plan.privacy = PrivacySettings(clip: 0.5, sigma: 0.05) }
    }
    c.start(1, at: 4, resume: true)
    c.run()
    let error = try XCTUnwrap(c.finish(1)?.error)
    XCTAssertTrue(error.contains("differential privacy is off in the checkpoint, on in this run"), error)
  }
}
