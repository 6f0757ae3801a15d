import Foundation
import XCTest

@testable import Learning

final class EphemeralPortsTests: XCTestCase {
  func testTheKernelsRangeIsRead() throws {
    let path = NSTemporaryDirectory() + "peerd-port-range-\(UUID().uuidString)"
    try "32768\t60999\n".write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    XCTAssertEqual(EphemeralPorts.localRange(path: path), 32768...60999)
    XCTAssertNil(EphemeralPorts.localRange(path: path + ".absent"))
  }

  func testPortsInsideTheRangeAreWarnedAboutAndPortsBelowAreNot() {
    let range = 32768...60999
    XCTAssertNil(EphemeralPorts.overlapWarning(ports: 20000...20095, range: range))
    XCTAssertNil(EphemeralPorts.overlapWarning(ports: 32000...32767, range: range))
    let w = EphemeralPorts.overlapWarning(ports: 32700...32795, range: range)
    XCTAssertEqual(
      w,
      "ports 32700–32795 overlap this machine's ephemeral range 32768–60999 (net.ipv4.ip_local_port_range): "
        + "an outgoing connection can take a node's port before it binds; set [COMMUNICATION] base_port so that "
        + "every port is below 32768")
    XCTAssertNil(EphemeralPorts.overlapWarning(ports: 46000...46095, range: nil))
  }

  /// The plan of a run whose ports fall in this machine's range carries the warning.
  func testAPlanInTheRangeIsWarned() throws {
    guard let range = EphemeralPorts.localRange() else { throw XCTSkip("no ip_local_port_range here") }
    let dir = NSTemporaryDirectory() + "peerd-ports-\(UUID().uuidString)/"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "2\n0 1\n".write(toFile: dir + "g.edges", atomically: true, encoding: .utf8)
    try #"{"0": "127.0.0.1"}"#.write(toFile: dir + "ip.json", atomically: true, encoding: .utf8)
    func plan(basePort: Int) throws -> NodePlan {
      try """
      [DATASET]
      dataset_class = Synthetic
      model_class = LogisticRegression
      [OPTIMIZER_PARAMS]
      optimizer_class = SGD
      lr = 0.1
      [TRAIN_PARAMS]
      rounds = 1
      batch_size = 8
      [COMMUNICATION]
      base_port = \(basePort)
      [NODE]
      iterations = 1
      """.write(toFile: dir + "c.ini", atomically: true, encoding: .utf8)
      return try NodePlan.resolve(
        NodeRequest(
          configPath: dir + "c.ini", graphPath: dir + "g.edges", graphFormat: "edges", ipPath: dir + "ip.json",
          uid: 0, procsPerMachine: 2, logDir: dir))
    }
    XCTAssertTrue(try plan(basePort: range.lowerBound).warnings.contains { $0.contains("ephemeral range") })
    XCTAssertFalse(try plan(basePort: 20000).warnings.contains { $0.contains("ephemeral range") })
  }
}
