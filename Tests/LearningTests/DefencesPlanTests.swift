import Config
import Foundation
import Numerics
import Sharing
import XCTest

@testable import Learning

/// The hostile settings resolved into a node's plan: robust aggregation where the sharing
/// method can take it, differential privacy, and the test-only attacker on the named uids only.
final class DefencesPlanTests: XCTestCase {
  /// `[SHARING]` is line 8, `sharing_class` line 9; `extra` starts at line 10.
  func plan(sharing: String = "Sharing", _ extra: String = "", node: String = "", uid: Int = 0, nodes: Int = 16)
    throws -> NodePlan
  {
    let text = """
      [DATASET]
      dataset_class = Synthetic
      model_class = LogisticRegression
      [OPTIMIZER_PARAMS]
      lr = 0.1
      [TRAIN_PARAMS]
      rounds = 1
      [SHARING]
      sharing_class = \(sharing)
      \(extra)
      [NODE]
      \(node)
      """
    let config = try RunConfiguration(document: INIDocument.parse(text, path: "x.ini"))
    return try NodePlan.fromConfig(config, configPath: "x.ini", uid: uid, totalNodes: nodes)
  }

  func message(_ body: () throws -> NodePlan) -> String? {
    do {
      _ = try body()
      return nil
    } catch { return "\(error)" }
  }

  func testRulesAndPrivacyReachThePlan() throws {
    XCTAssertEqual(try plan().aggregation, .mean)
    XCTAssertNil(try plan().privacy)
    XCTAssertEqual(try plan(sharing: "TopK", "alpha = 0.1\naggregation = median").aggregation, .median)
    XCTAssertEqual(
      try plan(sharing: "PartialModel", "alpha = 0.1\naggregation = trimmed_mean\ntrim_fraction = 0.2").aggregation,
      .trimmedMean(fraction: 0.2))
    XCTAssertEqual(try plan("aggregation = krum").aggregation, .krum(f: 1))
    XCTAssertEqual(
      try plan("dp_clip = 0.5\ndp_sigma = 2").privacy,
      PrivacySettings(clip: 0.5, sigma: 2, delta: 1e-5, noise: .seeded))
  }

  func testRulesThatCannotTakeTheSharingMethodAreErrors() {
    XCTAssertEqual(
      message { try self.plan(sharing: "PartialModel", "alpha = 0.1\naggregation = krum") },
      "x.ini:11: [SHARING] aggregation: krum compares whole models and needs sharing_class = Sharing (got PartialModel); median and trimmed_mean take partial shares"
    )
    XCTAssertEqual(
      message { try self.plan(sharing: "Choco", "alpha = 0.1\naggregation = median") },
      "x.ini:11: [SHARING] aggregation: median cannot combine Choco's shares (CHOCO's consensus step mixes public copies); use aggregation = mean, or PartialModel, RandomAlpha, Sharing, SubSampling, TopK"
    )
  }

  func testRandomWalkTakesTheMeanOnly() {
    XCTAssertEqual(
      message { try self.plan("aggregation = median", node: "algorithm = rwm") },
      "x.ini:10: [SHARING] aggregation: median does not apply to rwm: a walker is mixed with one model by age, and a robust rule over two models is their weighted mean or one of them; use aggregation = mean"
    )
  }

  /// Only the named uids attack; every node is told (a plan warning); a uid past the graph is
  /// an error once the graph is known.
  func testOnlyTheNamedUidsAttack() throws {
    let node = "attack = scaled\nattackers = [3, 11]"
    let attacker = try plan(node: node, uid: 3)
    XCTAssertEqual(attacker.attack, Attack(kind: .scaled))
    XCTAssertEqual(attacker.attack?.scale, 10)
    let honest = try plan(node: node, uid: 4)
    XCTAssertNil(honest.attack)
    XCTAssertTrue(honest.warnings.contains { $0.contains("nodes [3, 11] send scaled models") }, "\(honest.warnings)")
    XCTAssertEqual(try plan(node: "attack = sign_flip\nattackers = [0]\nattack_scale = 2").attack?.scale, 2)
    let text =
      "[DATASET]\ndataset_class = Synthetic\nmodel_class = LogisticRegression\n[OPTIMIZER_PARAMS]\nlr = 0.1\n[TRAIN_PARAMS]\n[NODE]\nattack = random\nattackers = [16]\n"
    let config = try RunConfiguration(document: INIDocument.parse(text, path: "x.ini"))
    XCTAssertNoThrow(try NodePlan.checkAttackers(config, graphNodes: 17))
    XCTAssertThrowsError(try NodePlan.checkAttackers(config, graphNodes: 16)) { error in
      XCTAssertEqual("\(error)", "x.ini:9: [NODE] attackers: 16 is not a node of the 16-node graph")
    }
  }

  /// A fraction that selects none of the model's parameters is an error once the model is built.
  func testAFractionThatSendsNothingIsAnError() throws {
    let p = try plan(sharing: "TopK", "alpha = 0.00001")
    XCTAssertThrowsError(try NodeFactory.prepare(p)) { error in
      XCTAssertTrue("\(error)".hasPrefix("[SHARING] alpha: 1e-05 selects none of the"), "\(error)")
    }
  }
}
