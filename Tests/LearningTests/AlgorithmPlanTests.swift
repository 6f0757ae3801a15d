import Config
import Foundation
import Topology
import XCTest

@testable import Learning

/// The algorithms' keys checked against the graph, and the layout each algorithm gets.
final class AlgorithmPlanTests: XCTestCase {
  func config(_ node: String) throws -> RunConfiguration {
    try RunConfiguration(
      document: INIDocument.parse(
        "[DATASET]\ndataset_class = Synthetic\nmodel_class = LogisticRegression\n[OPTIMIZER_PARAMS]\nlr = 0.1\n"
          + "[TRAIN_PARAMS]\n[NODE]\n" + node, path: "p.ini"))
  }

  func testKeysThatNeedTheNodeCountNameTheirLine() throws {
    func message(_ node: String, hasServer: Bool = false) throws -> String {
      do {
        try NodePlan.check(try config(node).node.algorithmKeys, nodes: 16, hasServer: hasServer)
        return "accepted"
      } catch { return "\(error)" }
    }
    XCTAssertEqual(
      try message("algorithm = epidemic\nel_fanout = 16"),
      "p.ini:9: [NODE] el_fanout: 16 is more than the 15 other nodes of the 16-node graph")
    XCTAssertEqual(try message("el_fanout = 15"), "accepted")
    XCTAssertEqual(
      try message("clients_per_round = 17", hasServer: true),
      "p.ini:8: [NODE] clients_per_round: 17 is more than the 16 clients of the 16-node graph")
    XCTAssertEqual(
      try message("slow_nodes = 16:2"), "p.ini:8: [NODE] slow_nodes: uid 16 is not in this run (uids 0…15)")
    XCTAssertEqual(try message("slow_nodes = 16:2", hasServer: true), "accepted")
  }

  func testSettingsAndLayoutFollowTheAlgorithm() throws {
    let c = try config("algorithm = fedavg\nclient_fraction = 0.5\nslow_nodes = 3:4")
    var client = try NodePlan.fromConfig(c, configPath: "p.ini", uid: 3, totalNodes: 16)
    XCTAssertEqual(client.slowdown, 4)
    XCTAssertEqual(client.algorithmSettings.clientsPerRound(of: 16), 8)
    XCTAssertEqual(client.algorithmSettings.roundDeadline, 30, "defaults to peer_timeout")
    let ring = Graph.ring(nodes: 16)
    XCTAssertEqual(try client.layOut(in: ring), .serverAndClients)
    XCTAssertEqual(client.role, .client)
    XCTAssertEqual(client.neighbours, [])
    XCTAssertEqual(client.heartbeatPeers, [16])
    var server = try NodePlan.fromConfig(c, configPath: "p.ini", uid: 16, totalNodes: 16)
    try server.layOut(in: ring)
    XCTAssertEqual(server.role, .server)
    XCTAssertEqual(server.serverUID, 16)
    XCTAssertEqual(server.heartbeatPeers, Array(0..<16))
    var stranger = try NodePlan.fromConfig(c, configPath: "p.ini", uid: 17, totalNodes: 16)
    XCTAssertThrowsError(try stranger.layOut(in: ring))

    var el = try NodePlan.fromConfig(try config("algorithm = el"), configPath: "p.ini", uid: 2, totalNodes: 16)
    try el.layOut(in: ring)
    XCTAssertEqual(el.neighbours, [1, 3])
    XCTAssertEqual(el.heartbeatPeers, (0..<16).filter { $0 != 2 })
    XCTAssertEqual(el.algorithmSettings.fanout(nodes: 16), 4, "⌈log2 16⌉")
    XCTAssertEqual(AlgorithmSettings().fanout(nodes: 17), 5)
    XCTAssertEqual(AlgorithmSettings().gamma(degree: 4), 4)
    XCTAssertEqual(AlgorithmSettings().gamma(degree: 12), 8)
  }

  /// FedAvg's server is uid n on machine 0 at base_port + n, whatever the number of machines:
  /// every node's plan has its endpoint, and the server binds it.
  func testTheServerIsAddressedOnMachineZeroAfterTheLastPort() throws {
    let dir = NSTemporaryDirectory() + "peerd-plan-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let text =
      "[DATASET]\ndataset_class = Synthetic\nmodel_class = LogisticRegression\n[OPTIMIZER_PARAMS]\nlr = 0.1\n"
      + "[TRAIN_PARAMS]\n[COMMUNICATION]\nbase_port = 25000\n[NODE]\nalgorithm = fedavg\n"
    try text.write(toFile: dir + "/c.ini", atomically: true, encoding: .utf8)
    let ring = "8\n" + (0..<8).map { "\($0) \(($0 + 1) % 8)" }.joined(separator: "\n") + "\n"
    try ring.write(toFile: dir + "/g.txt", atomically: true, encoding: .utf8)
    try #"{"0": "10.0.0.1", "1": "10.0.0.2"}"#.write(toFile: dir + "/ip.json", atomically: true, encoding: .utf8)
    func plan(_ uid: Int) throws -> NodePlan {
      try NodePlan.resolve(
        NodeRequest(
          configPath: dir + "/c.ini", graphPath: dir + "/g.txt", ipPath: dir + "/ip.json", uid: uid, logDir: dir))
    }
    let server = try plan(8)
    XCTAssertEqual(server.role, .server)
    XCTAssertEqual(server.bindEndpoint, "tcp://10.0.0.1:25008")
    let client = try plan(7)
    XCTAssertEqual(client.role, .client)
    XCTAssertEqual(client.bindEndpoint, "tcp://10.0.0.2:25007")
    XCTAssertEqual(client.endpoints[8], "tcp://10.0.0.1:25008")
    XCTAssertEqual(client.heartbeatPeers, [8])
    XCTAssertThrowsError(try plan(9))
  }
}
