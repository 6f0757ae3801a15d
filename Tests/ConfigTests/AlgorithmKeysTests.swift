import Foundation
import XCTest

@testable import Config

/// The algorithms' `[NODE]` keys: defaults, values, and errors that name file and line.
final class AlgorithmKeysTests: XCTestCase {
  let base =
    "[DATASET]\ndataset_class = MNIST\nmodel_class = LogisticRegression\n[OPTIMIZER_PARAMS]\nlr = 0.1\n[TRAIN_PARAMS]\n[NODE]\n"

  func load(_ node: String) throws -> AlgorithmKeys {
    try RunConfiguration(document: INIDocument.parse(base + node, path: "a.ini")).node.algorithmKeys
  }

  func message(_ node: String) -> String {
    do {
      _ = try load(node)
      return "accepted"
    } catch { return "\(error)" }
  }

  func testDefaultsAreTheReferences() throws {
    let k = try load("")
    XCTAssertNil(k.rwmTimeout)
    XCTAssertEqual(k.swarmAlpha, 0.6)
    XCTAssertEqual(k.swarmBeta, 0)
    XCTAssertNil(k.swarmGamma)
    XCTAssertEqual(k.syncTimeout, 10)
    XCTAssertNil(k.clientsPerRound)
    XCTAssertNil(k.clientFraction)
    XCTAssertNil(k.roundDeadline)
    XCTAssertNil(k.elFanout)
    XCTAssertEqual(k.slowNodes, [:])
  }

  func testValuesAreRead() throws {
    let k = try load(
      """
      rwm_timeout = 2.5
      swarm_alpha = 0
      swarm_beta = 1.5
      swarm_gamma = 3
      sync_timeout = 0.5
      client_fraction = 0.5
      round_deadline = 4
      el_fanout = 5
      slow_nodes = 3:4.0, 7:2
      """)
    XCTAssertEqual(k.rwmTimeout, 2.5)
    XCTAssertEqual(k.swarmAlpha, 0)
    XCTAssertEqual(k.swarmBeta, 1.5)
    XCTAssertEqual(k.swarmGamma, 3)
    XCTAssertEqual(k.syncTimeout, 0.5)
    XCTAssertEqual(k.clientFraction, 0.5)
    XCTAssertEqual(k.roundDeadline, 4)
    XCTAssertEqual(k.elFanout, 5)
    XCTAssertEqual(k.slowNodes, [3: 4, 7: 2])
    XCTAssertEqual(k.lines["el_fanout"], 15)
    XCTAssertEqual(try load("clients_per_round = 8").clientsPerRound, 8)
  }

  func testWrongValuesNameFileAndLine() {
    XCTAssertEqual(message("swarm_alpha = 1.5"), "a.ini:8: [NODE] swarm_alpha: must be a mix rate in [0, 1], got 1.5")
    XCTAssertEqual(message("swarm_beta = -1"), "a.ini:8: [NODE] swarm_beta: must be ≥ 0 training steps, got -1.0")
    XCTAssertEqual(message("swarm_gamma = -2"), "a.ini:8: [NODE] swarm_gamma: must be ≥ 0 neighbours, got -2")
    XCTAssertEqual(
      message("rwm_timeout = 0"), "a.ini:8: [NODE] rwm_timeout: must be positive seconds (at most 86400), got 0.0")
    XCTAssertEqual(
      message("client_fraction = 0"), "a.ini:8: [NODE] client_fraction: must be a fraction in (0, 1], got 0.0")
    XCTAssertEqual(
      message("clients_per_round = 4\nclient_fraction = 0.5"),
      "a.ini:9: [NODE] client_fraction: give clients_per_round or client_fraction, not both")
    XCTAssertEqual(message("el_fanout = 0"), "a.ini:8: [NODE] el_fanout: must be at least 1 node, got 0")
    XCTAssertEqual(
      message("slow_nodes = 3=4"), "a.ini:8: [NODE] slow_nodes: expected uid:factor pairs like 3:4.0, got '3=4'")
    XCTAssertEqual(
      message("slow_nodes = 3:0.5"),
      "a.ini:8: [NODE] slow_nodes: a slowdown factor must be in [1, 1000] (4.0 = four times slower), got 0.5")
    XCTAssertEqual(message("slow_nodes = 3:2 3:4"), "a.ini:8: [NODE] slow_nodes: uid 3 is listed twice")
    XCTAssertEqual(message("sync_timeout = x"), "a.ini:8: [NODE] sync_timeout: expected a number, got 'x'")
  }
}
