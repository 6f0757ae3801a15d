import XCTest

@testable import Transport

final class PortProbeTests: XCTestCase {
  /// A port a ZeroMQ ROUTER holds is reported in use; once the socket is closed it is free
  /// again (SO_REUSEADDR, as ZeroMQ binds); an address of no interface here is unusable.
  func testInUseFreeAndForeignAddress() throws {
    let holder = try ZMQTransport(uid: 1, bindEndpoint: "tcp://127.0.0.1:*")
    let port = try XCTUnwrap(Int(holder.boundEndpoint.split(separator: ":").last ?? ""))
    guard case .inUse = PortProbe.check(host: "127.0.0.1", port: port) else {
      return XCTFail("port \(port) held by a ROUTER was not reported in use")
    }
    holder.close()
    XCTAssertEqual(PortProbe.check(host: "127.0.0.1", port: port), .free)
    XCTAssertEqual(PortProbe.check(host: "localhost", port: port), .free)
    // TEST-NET-3: no interface of this machine has it, so a bind there fails before any packet.
    guard case .unusableHost(let reason) = PortProbe.check(host: "203.0.113.9", port: port) else {
      return XCTFail("a foreign address was accepted")
    }
    XCTAssertTrue(reason.contains("an address of this machine"), reason)
    guard case .unusableHost = PortProbe.check(host: "no-such-host.invalid", port: port) else {
      return XCTFail("an unresolvable name was accepted")
    }
  }
}
