import Foundation
import Numerics
import XCTest

@testable import Transport

/// The deterministic network on a virtual clock: time passes only when every node waits.
final class EmbeddedNetworkTests: XCTestCase {
  final class Log: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ s: String) {
      lock.lock()
      lines.append(s)
      lock.unlock()
    }
    var all: [String] {
      lock.lock()
      defer { lock.unlock() }
      return lines
    }
  }

  /// A ping-pong where each side waits 10 virtual seconds between replies: 30 virtual seconds
  /// pass in far less real time, and the interleaving is the same every run.
  func testVirtualTimeAdvancesOnlyThroughWaits() {
    func run() -> ([String], Double) {
      let net = EmbeddedNetwork(latency: 0.5)
      let log = Log()
      net.spawn(0) { t in
        for i in 0..<3 {
          t.send([UInt8(i)], to: 1)
          t.sleep(10)
        }
        log.add("0 done at \(t.now())")
      }
      net.spawn(1) { t in
        var got = 0
        while got < 3 {
          if let m = try? t.receive(timeout: 100) {
            log.add("1 got \(m.bytes) from \(m.sender) at \(t.now())")
            got += 1
          }
        }
      }
      let end = net.run()
      return (log.all, end)
    }
    let started = MonotonicClock.now()
    let (a, endA) = run()
    let (b, _) = run()
    XCTAssertLessThan(MonotonicClock.now() - started, 5)
    XCTAssertEqual(a, b)
    XCTAssertEqual(
      a, ["1 got [0] from 0 at 0.5", "1 got [1] from 0 at 10.5", "1 got [2] from 0 at 20.5", "0 done at 30.0"])
    XCTAssertEqual(endA, 30)
  }

  func testReceiveTimesOutOnTheVirtualClock() {
    let net = EmbeddedNetwork()
    let log = Log()
    net.spawn(0) { t in
      let start = t.now()
      let m = try? t.receive(timeout: 7.5)
      log.add("\(m == nil) after \(t.now() - start)")
    }
    net.run()
    XCTAssertEqual(log.all, ["true after 7.5"])
  }

  /// A killed node's next transport call throws; nothing reaches or leaves it afterwards.
  func testKillStopsANodeAndItsTraffic() {
    let net = EmbeddedNetwork()
    let log = Log()
    net.spawn(0) { t in
      for i in 0..<10 {
        t.send([UInt8(i)], to: 1)
        t.sleep(1)
      }
    }
    net.spawn(1) { t in
      do {
        while true { if let m = try t.receive(timeout: 5) { log.add("got \(m.bytes[0])") } }
      } catch {
        log.add("closed at \(t.now())")
      }
    }
    net.kill(1, at: 3.5)
    net.run()
    XCTAssertEqual(log.all, ["got 0", "got 1", "got 2", "got 3", "closed at 3.5"])
    XCTAssertEqual(net.frames.filter(\.delivered).count, 4)
    XCTAssertEqual(net.frames.count, 10)
  }

  /// A paused node is not scheduled; what was sent meanwhile waits for it (SIGSTOP/SIGCONT).
  func testPauseQueuesMessagesUntilTheNodeRunsAgain() {
    let net = EmbeddedNetwork(latency: 0)
    let log = Log()
    net.spawn(0) { t in
      t.sleep(1)
      t.send([1], to: 1)
      t.sleep(1)
      t.send([2], to: 1)
    }
    net.spawn(1) { t in
      while let m = try? t.receive(timeout: 20) { log.add("\(m.bytes[0]) at \(t.now())") }
    }
    net.pause(1, at: 0.5, for: 5)
    net.run()
    XCTAssertEqual(log.all, ["1 at 5.5", "2 at 5.5"])
  }

  /// A uid spawned again after a kill is a restart with an empty mailbox; what is sent once the
  /// old one died reaches the new one.
  func testRestartGetsANewMailbox() {
    let net = EmbeddedNetwork(latency: 0)
    let log = Log()
    net.spawn(0) { t in
      for i in 0..<6 {
        t.send([UInt8(i)], to: 1)
        t.sleep(1)
      }
    }
    net.spawn(1) { t in
      while let m = try? t.receive(timeout: 10) { log.add("first \(m.bytes[0])") }
    }
    net.kill(1, at: 1.5)
    net.spawn(1, at: 3.2) { t in
      while let m = try? t.receive(timeout: 3) { log.add("second \(m.bytes[0]) at \(t.now())") }
    }
    net.run()
    XCTAssertEqual(
      log.all, ["first 0", "first 1", "second 2 at 3.2", "second 3 at 3.2", "second 4 at 4.0", "second 5 at 5.0"])
  }

  func testNodesStillRunningAtTheLimitAreKilled() {
    let net = EmbeddedNetwork()
    let log = Log()
    net.spawn(0) { t in
      do {
        while true { _ = try t.receive(timeout: 1) }
      } catch {
        log.add("stopped at \(t.now())")
      }
    }
    XCTAssertEqual(net.run(until: 10), 10)
    XCTAssertEqual(log.all, ["stopped at 10.0"])
  }
}
