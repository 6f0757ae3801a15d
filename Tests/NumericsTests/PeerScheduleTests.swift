import Foundation
import XCTest

@testable import Numerics

/// Epidemic Learning's schedule is part of the protocol (docs/protocol.md §5): a peer written in
/// another language must draw the same targets. A Python version written from the document's
/// steps alone must agree with `PeerSchedule`.
final class PeerScheduleTests: XCTestCase {
  static let python = #"""
    import sys
    M = (1 << 64) - 1
    def splitmix(state):
        while True:
            state = (state + 0x9E3779B97F4A7C15) & M
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
            yield z ^ (z >> 31)
    def rotl(x, k): return ((x << k) | (x >> (64 - k))) & M
    class Xoshiro:
        def __init__(self, seed):
            g = splitmix(seed); self.s = [next(g) for _ in range(4)]
        def next(self):
            s = self.s; result = (rotl((s[1] * 5) & M, 7) * 9) & M; t = (s[1] << 17) & M
            s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
            return result
        def below(self, m):
            while True:
                p = self.next() * m
                if (p & M) >= ((1 << 64) - m) % m: return p >> 64
    def draw(seed, u, r, s, n):
        h = 0xCBF29CE484222325
        for b in b"peer-schedule": h = ((h ^ b) * 0x100000001B3) & M
        a = next(splitmix(seed ^ h))
        index = (u << 32) | r
        b = next(splitmix(a ^ ((index * 0xD6E8FEB86659FD93) & M)))
        g = Xoshiro(b)
        c = [v for v in range(n) if v != u]
        for i in range(s):
            j = i + g.below(n - 1 - i); c[i], c[j] = c[j], c[i]
        return c[:s]
    seed, s, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    for u in range(n):
        for r in (1, 2, 77, 100000):
            print(u, r, " ".join(map(str, draw(seed, u, r, s, n))))
    """#

  func testTheDocumentedDrawIsTheImplementedOne() throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", Self.python, "90", "4", "16"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    do { try p.run() } catch { throw XCTSkip("python3 is not installed") }
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus != 127 else { throw XCTSkip("python3 is not installed") }
    XCTAssertEqual(p.terminationStatus, 0, text)
    let schedule = PeerSchedule(seed: 90)
    var expected = ""
    for u in 0..<16 {
      for r in [1, 2, 77, 100_000] {
        let targets = schedule.draw(4, from: (0..<16).filter { $0 != u }, node: u, round: r)
        expected += "\(u) \(r) " + targets.map(String.init).joined(separator: " ") + "\n"
      }
    }
    XCTAssertEqual(text, expected)
  }

  func testDrawsAreDistinctAndDependOnNodeAndRound() {
    let schedule = PeerSchedule(seed: 1)
    let a = schedule.draw(5, from: Array(0..<20), node: 3, round: 9)
    XCTAssertEqual(Set(a).count, 5)
    XCTAssertEqual(a, schedule.draw(5, from: Array(0..<20), node: 3, round: 9))
    XCTAssertNotEqual(a, schedule.draw(5, from: Array(0..<20), node: 4, round: 9))
    XCTAssertNotEqual(a, schedule.draw(5, from: Array(0..<20), node: 3, round: 10))
    XCTAssertNotEqual(a, PeerSchedule(seed: 2).draw(5, from: Array(0..<20), node: 3, round: 9))
    XCTAssertEqual(schedule.draw(9, from: [4, 7], node: 0, round: 1).sorted(), [4, 7])
    XCTAssertEqual(schedule.draw(3, from: [], node: 0, round: 1), [])
  }
}
