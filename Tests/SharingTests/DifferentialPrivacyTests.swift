import Numerics
import XCTest

@testable import Sharing

final class DifferentialPrivacyTests: XCTestCase {
  func testAnUpdateLongerThanTheClipIsScaledToIt() {
    let dp = DifferentialPrivacy(
      PrivacySettings(clip: 1, sigma: 0), seed: 1, uid: 0, initialModel: FloatBuffer([1, 1, 1, 1]))
    // Update (3, 4, 0, 0): norm 5, scaled to (0.6, 0.8, 0, 0).
    let x = FloatBuffer([4, 5, 1, 1])
    dp.noteTraining()
    XCTAssertEqual(dp.release(x, round: 1), 5)
    XCTAssertEqual(x.array, [1.6, 1.8, 1, 1])
    XCTAssertEqual(dp.clipped, 1)
    // The release is the new public state: a second update is measured from it, and a short
    // one goes out as it is.
    x[0] = 1.9
    dp.noteTraining()
    XCTAssertEqual(dp.release(x, round: 2)!, 0.3, accuracy: 1e-6)
    XCTAssertEqual(x[0], 1.9)
    XCTAssertEqual(dp.clipped, 1)
    XCTAssertEqual(dp.releases, 2)
  }

  /// A share with no training since the last release sends what is public already; training
  /// makes the next share a release even when the update is zero (the decision never depends on
  /// the values).
  func testOnlyTrainingMakesAShareARelease() {
    let dp = DifferentialPrivacy(
      PrivacySettings(clip: 1, sigma: 1), seed: 1, uid: 0, initialModel: FloatBuffer(count: 8))
    let x = FloatBuffer(count: 8)
    XCTAssertNil(dp.release(x, round: 1), "nothing trained: the initial model is public")
    XCTAssertEqual(x.array, [Float](repeating: 0, count: 8))
    dp.noteTraining()
    XCTAssertEqual(dp.release(x, round: 3), 0, "a zero update is released, noise and all")
    let first = x.array
    XCTAssertNotEqual(first, [Float](repeating: 0, count: 8))
    XCTAssertNil(dp.release(x, round: 3))
    XCTAssertEqual(x.array, first)
    XCTAssertEqual(dp.releases, 1)
    // Trained again in the same round (a resumed round): a second release, with fresh noise.
    x.copy(from: FloatBuffer(first))
    dp.noteTraining()
    XCTAssertEqual(dp.release(x, round: 3), 0)
    XCTAssertEqual(dp.releases, 2)
    XCTAssertNotEqual(x.array, first)
  }

  /// An average while training is pending leaves the public state where it was: the averaged
  /// model still holds the unreleased training.
  func testAnAverageOfUnreleasedTrainingIsNotPublic() {
    let dp = DifferentialPrivacy(
      PrivacySettings(clip: 10, sigma: 0), seed: 1, uid: 0, initialModel: FloatBuffer([0, 0]))
    dp.noteTraining()
    dp.rebase(on: FloatBuffer([3, 0]))
    XCTAssertEqual(dp.reference.array, [0, 0])
    XCTAssertEqual(dp.release(FloatBuffer([3, 4]), round: 1), 5)
  }

  /// After averaging, the next update is measured from the averaged model (`rebase`).
  func testRebaseMovesTheReference() {
    let dp = DifferentialPrivacy(
      PrivacySettings(clip: 10, sigma: 0), seed: 1, uid: 0, initialModel: FloatBuffer([0, 0]))
    let x = FloatBuffer([3, 4])
    dp.rebase(on: FloatBuffer([3, 0]))
    dp.noteTraining()
    XCTAssertEqual(dp.release(x, round: 1), 4)
  }

  func testSeededNoiseIsGaussianAndRepeatable() {
    let n = 200_000
    func released(seed: UInt64, uid: Int, round: Int) -> [Float] {
      let dp = DifferentialPrivacy(
        PrivacySettings(clip: 0.5, sigma: 2), seed: seed, uid: uid, initialModel: FloatBuffer(count: n))
      let x = FloatBuffer(count: n)
      dp.noteTraining()
      dp.release(x, round: round)
      return x.array
    }
    let a = released(seed: 7, uid: 3, round: 5)
    XCTAssertEqual(a, released(seed: 7, uid: 3, round: 5), "same seed, uid and round: the same noise")
    XCTAssertNotEqual(a, released(seed: 7, uid: 4, round: 5))
    XCTAssertNotEqual(a, released(seed: 7, uid: 3, round: 6))
    // Standard deviation σ·C = 1, mean 0: checked within 5 standard errors.
    let mean = a.reduce(0.0) { $0 + Double($1) } / Double(n)
    let variance = a.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n - 1)
    XCTAssertEqual(mean, 0, accuracy: 5 / Double(n).squareRoot())
    XCTAssertEqual(variance, 1, accuracy: 5 * (2.0 / Double(n)).squareRoot())
    // Tails: |z| > 3 for 0.27 % of a standard normal.
    let tail = Double(a.filter { abs($0) > 3 }.count) / Double(n)
    XCTAssertEqual(tail, 0.0027, accuracy: 0.0006)
  }

  func testSystemNoiseDiffersFromRunToRun() {
    func released() -> [Float] {
      let dp = DifferentialPrivacy(
        PrivacySettings(clip: 1, sigma: 1, noise: .system), seed: 7, uid: 3, initialModel: FloatBuffer(count: 64))
      let x = FloatBuffer(count: 64)
      dp.noteTraining()
      dp.release(x, round: 1)
      return x.array
    }
    XCTAssertNotEqual(released(), released())
  }

  /// Independent figures (a direct evaluation of the same bounds on a fine grid, and the
  /// classical Gaussian-mechanism bound) and the identities of Gaussian composition.
  func testAccountantAgainstKnownFigures() {
    let d = 1e-5
    XCTAssertEqual(PrivacyAccountant.rdpEpsilon(noiseMultiplier: 1, releases: 1, delta: d), 4.72839, accuracy: 1e-3)
    XCTAssertEqual(PrivacyAccountant.exactEpsilon(noiseMultiplier: 1, releases: 1, delta: d), 4.37718, accuracy: 1e-3)
    XCTAssertEqual(PrivacyAccountant.rdpEpsilon(noiseMultiplier: 2, releases: 100, delta: d), 35.0673, accuracy: 1e-2)
    XCTAssertEqual(PrivacyAccountant.exactEpsilon(noiseMultiplier: 2, releases: 100, delta: d), 33.1037, accuracy: 1e-2)
    // T releases at z are one release at z/√T.
    XCTAssertEqual(
      PrivacyAccountant.rdpEpsilon(noiseMultiplier: 10, releases: 100, delta: d),
      PrivacyAccountant.rdpEpsilon(noiseMultiplier: 1, releases: 1, delta: d), accuracy: 1e-6)
    // σ = √(2 ln(1.25/δ))/ε is (ε, δ)-DP for ε < 1 (Dwork & Roth, Thm. A.1): the exact ε is below.
    let sigma = (2 * log(1.25 / d)).squareRoot() / 0.5
    XCTAssertLessThan(PrivacyAccountant.exactEpsilon(noiseMultiplier: sigma, releases: 1, delta: d), 0.5)
    for (z, t) in [(0.5, 1), (1.0, 10), (3.0, 500), (30.0, 80)] {
      let rdp = PrivacyAccountant.rdpEpsilon(noiseMultiplier: z, releases: t, delta: d)
      let exact = PrivacyAccountant.exactEpsilon(noiseMultiplier: z, releases: t, delta: d)
      XCTAssertLessThanOrEqual(exact, rdp, "z \(z), T \(t)")
      XCTAssertGreaterThan(exact, 0.8 * rdp, "z \(z), T \(t): the two accountants should be close")
    }
    XCTAssertEqual(PrivacyAccountant.rdpEpsilon(noiseMultiplier: 0, releases: 5, delta: d), .infinity)
    XCTAssertEqual(PrivacyAccountant.rdpEpsilon(noiseMultiplier: 1, releases: 0, delta: d), 0)
    // The node's figure: σ = 4 is noise multiplier 2 against the sensitivity 2·clip.
    let dp = DifferentialPrivacy(
      PrivacySettings(clip: 1, sigma: 4, delta: d), seed: 1, uid: 0, initialModel: FloatBuffer(count: 2))
    for r in 1...100 {
      dp.noteTraining()
      dp.release(FloatBuffer(count: 2), round: r)
    }
    XCTAssertEqual(dp.releases, 100)
    XCTAssertEqual(dp.epsilon.rdp, 35.0673, accuracy: 1e-2)
  }
}
