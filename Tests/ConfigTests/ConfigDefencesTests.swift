import Foundation
import XCTest

@testable import Config

/// `[SHARING]`'s aggregation and differential-privacy keys and `[NODE]`'s test-only attacker:
/// each wrong value, and each key given where it cannot apply, is one error naming file, line,
/// section and key, with its kind.
final class ConfigDefencesTests: XCTestCase {
  /// Line 8 is the first line added under `[SHARING]`, line 10 the first under `[NODE]`.
  static let base = """
    [DATASET]
    dataset_class = Synthetic
    model_class = LogisticRegression
    [OPTIMIZER_PARAMS]
    lr = 0.1
    [TRAIN_PARAMS]
    [SHARING]
    [NODE]

    """

  func load(sharing: String = "", node: String = "") throws -> RunConfiguration {
    let text = Self.base.replacingOccurrences(of: "[SHARING]\n", with: "[SHARING]\n" + sharing + "\n")
      .replacingOccurrences(of: "[NODE]\n", with: "[NODE]\n" + node + "\n")
    return try RunConfiguration(document: INIDocument.parse(text, path: "c.ini"))
  }

  func error(sharing: String = "", node: String = "") -> ConfigError? {
    do {
      _ = try load(sharing: sharing, node: node)
      return nil
    } catch { return error as? ConfigError }
  }

  func testDefaultsAreTheMeanWithoutPrivacyOrAttack() throws {
    let c = try load()
    XCTAssertEqual(c.sharing.defences.aggregation, "mean")
    XCTAssertNil(c.sharing.defences.dpClip)
    XCTAssertEqual(c.sharing.defences.dpSigma, 0)
    XCTAssertEqual(c.sharing.defences.dpDelta, 1e-5)
    XCTAssertEqual(c.sharing.defences.dpNoise, "seeded")
    XCTAssertEqual(c.node.attack.attack, "none")
  }

  func testValidValuesLoad() throws {
    let robust = try load(sharing: "aggregation = Trimmed_Mean\ntrim_fraction = 0.1")
    XCTAssertEqual(robust.sharing.defences.aggregation, "trimmed_mean")
    XCTAssertEqual(robust.sharing.defences.trimFraction, 0.1)
    XCTAssertEqual(try load(sharing: "aggregation = krum\nkrum_f = 2").sharing.defences.krumF, 2)
    let dp = try load(sharing: "dp_clip = 2\ndp_sigma = 0.5\ndp_delta = 1e-6\ndp_noise = system")
    XCTAssertEqual(dp.sharing.defences.dpClip, 2)
    XCTAssertEqual(dp.sharing.defences.dpSigma, 0.5)
    XCTAssertEqual(dp.sharing.defences.dpDelta, 1e-6)
    XCTAssertEqual(dp.sharing.defences.dpNoise, "system")
    let attack = try load(node: "attack = sign_flip\nattackers = [3, 11, 3]\nattack_scale = 2")
    XCTAssertEqual(attack.node.attack.attack, "sign_flip")
    XCTAssertEqual(attack.node.attack.attackers, [3, 11, 3])
    XCTAssertEqual(attack.node.attack.scale, 2)
  }

  func testSharingKeysOutsideTheirRangesOrSettingsAreErrors() {
    let cases: [(String, String, ConfigError.Kind)] = [
      (
        "aggregation = geomedian",
        "c.ini:8: [SHARING] aggregation: expected mean, median, trimmed_mean or krum, got 'geomedian'", .unsupported
      ),
      (
        "aggregation = trimmed_mean\ntrim_fraction = 0.5",
        "c.ini:9: [SHARING] trim_fraction: must be a fraction in [0, 0.5), got 0.5", .outOfRange
      ),
      (
        "aggregation = trimmed_mean\ntrim_fraction = -0.1",
        "c.ini:9: [SHARING] trim_fraction: must be a fraction in [0, 0.5), got -0.1", .outOfRange
      ),
      (
        "trim_fraction = 0.2",
        "c.ini:8: [SHARING] trim_fraction: applies to aggregation = trimmed_mean only (aggregation is mean)",
        .malformedValue
      ),
      (
        "aggregation = median\nkrum_f = 1",
        "c.ini:9: [SHARING] krum_f: applies to aggregation = krum only (aggregation is median)", .malformedValue
      ),
      (
        "aggregation = krum\nkrum_f = 1001", "c.ini:9: [SHARING] krum_f: must be between 0 and 1000, got 1001",
        .outOfRange
      ),
      (
        "dp_clip = 0", "c.ini:8: [SHARING] dp_clip: must be a positive L2 norm within float32 range, got 0", .outOfRange
      ),
      (
        "dp_clip = 1e39", "c.ini:8: [SHARING] dp_clip: must be a positive L2 norm within float32 range, got 1e39",
        .outOfRange
      ),
      ("dp_clip = abc", "c.ini:8: [SHARING] dp_clip: expected a number, got 'abc'", .malformedValue),
      (
        "dp_clip = 1\ndp_sigma = -1",
        "c.ini:9: [SHARING] dp_sigma: must be a noise multiplier in [0, 10000], got -1", .outOfRange
      ),
      (
        "dp_sigma = 1",
        "c.ini:8: [SHARING] dp_sigma: needs dp_clip: the noise is dp_sigma × dp_clip, the bound on the shared update",
        .malformedValue
      ),
      (
        "dp_clip = 1\ndp_delta = 1", "c.ini:9: [SHARING] dp_delta: must be a probability in (0, 1), got 1",
        .outOfRange
      ),
      (
        "dp_delta = 1e-6",
        "c.ini:8: [SHARING] dp_delta: applies with dp_clip only (differential privacy is off without it)",
        .malformedValue
      ),
      (
        "dp_clip = 1\ndp_noise = urandom", "c.ini:9: [SHARING] dp_noise: expected seeded or system, got 'urandom'",
        .unsupported
      ),
    ]
    for (extra, message, kind) in cases {
      let e = error(sharing: extra)
      XCTAssertEqual(e.map { "\($0)" }, message, extra)
      XCTAssertEqual(e?.kind, kind, extra)
    }
  }

  func testAttackKeysMustAgree() {
    let cases: [(String, String, ConfigError.Kind)] = [
      (
        "attack = poison", "c.ini:10: [NODE] attack: expected none, scaled, sign_flip or random, got 'poison'",
        .unsupported
      ),
      (
        "attack = scaled",
        "c.ini:9: [NODE] attackers: attack = scaled needs the attacking uids, like attackers = [3, 11]", .missing
      ),
      (
        "attackers = [1]", "c.ini:10: [NODE] attackers: applies with attack = scaled, sign_flip or random only",
        .malformedValue
      ),
      (
        "attack_scale = 3", "c.ini:10: [NODE] attack_scale: applies with attack = scaled, sign_flip or random only",
        .malformedValue
      ),
      ("attack = random\nattackers = [-1]", "c.ini:11: [NODE] attackers: -1 is not a uid", .outOfRange),
      (
        "attack = random\nattackers = [1]\nattack_scale = 0",
        "c.ini:12: [NODE] attack_scale: must be non-zero and at most 1e6 in magnitude, got 0", .outOfRange
      ),
    ]
    for (extra, message, kind) in cases {
      let e = error(node: extra)
      XCTAssertEqual(e.map { "\($0)" }, message, extra)
      XCTAssertEqual(e?.kind, kind, extra)
    }
  }
}
