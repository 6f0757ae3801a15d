import Foundation
import Numerics
import Sharing
import XCTest

@testable import Fuzzing

/// The harness itself: its seeds are valid inputs, its checks fail on the faults they look
/// for, and its mutation stream is repeatable. (The 100,000-input runs of every decoder are
/// in IntegrationTests/FuzzHarnessTests.swift, through the release peerd-fuzz.)
final class HarnessTests: XCTestCase {
  func testEverySeedOfEveryDecoderIsAccepted() {
    for target in FuzzTargets.decoders {
      for (i, seed) in target.seeds.enumerated() {
        XCTAssertEqual(target.decode(seed), .accepted, "\(target.name) seed \(i)")
      }
    }
  }

  func testEveryShareEncodingHasASeedBuilder() {
    XCTAssertEqual(
      Set(ShareSeeds.builders.map(\.0)), Set(ShareEncoding.allCases), "add one line to ShareSeeds.builders")
    for (encoding, build) in ShareSeeds.builders where encoding != .indexed {
      XCTAssertEqual(build(610).encoding, encoding)
    }
  }

  func testTheAllocationCheckCatchesADecoderThatAllocatesWhatAClaimSays() {
    // A fake meter: the decoder reports what it would have allocated.
    final class Box: @unchecked Sendable { var bytes = 0 }
    let box = Box()
    let meter = AllocationMeter { body in
      box.bytes = 0
      body()
      return (box.bytes, box.bytes)
    }
    let greedy = FuzzTarget(
      name: "greedy", seeds: [[1, 0, 0, 0]], countFields: [.init(offset: 0, width: 4)],
      claims: [{ n in (0..<4).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } }],
      decode: { bytes in
        box.bytes = bytes.count >= 4 ? (0..<4).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) } : 0
        return .accepted
      })
    let report = FuzzRunner(meter: meter).run(greedy, iterations: 100, seed: 1)
    XCTAssertFalse(report.findings.isEmpty)
    XCTAssertEqual(
      report.findings.first.map { "\($0)" },
      "greedy: allocated 10000000 bytes at once for a 4-byte input (bound 1048832); input 80969800")
    let honest = FuzzTarget(name: "honest", seeds: greedy.seeds, claims: greedy.claims, decode: { _ in .accepted })
    XCTAssertTrue(FuzzRunner(meter: meter).run(honest, iterations: 100, seed: 1).findings.isEmpty)
  }

  func testUnreadableRejectionsAreFindings() {
    XCTAssertTrue(FuzzRunner.isReadable("g.txt:3: node 7 out of range 0..<3"))
    XCTAssertFalse(FuzzRunner.isReadable("line one\nline two"))
    XCTAssertFalse(FuzzRunner.isReadable("got 'T\u{0}rue'"))
    XCTAssertFalse(FuzzRunner.isReadable(String(repeating: "x", count: 401)))
    XCTAssertFalse(FuzzRunner.isReadable("Error Domain=NSCocoaErrorDomain Code=516"))
    XCTAssertFalse(FuzzRunner.isReadable("f.gz: corrupt gzip data (zlib status -5)"))
    let chatty = FuzzTarget(name: "chatty", seeds: [[1]], decode: { _ in .rejected("a\nb") })
    XCTAssertEqual(FuzzRunner(meter: .none).run(chatty, iterations: 10, seed: 1).findings.first?.kind, .message("a\nb"))
  }

  func testMutationIsRepeatableAndBounded() {
    let target = FuzzTargets.named("ini")!
    var a = Mutator(seed: 9, maximumSize: 4096)
    var b = Mutator(seed: 9, maximumSize: 4096)
    var previous = target.seeds[0]
    for _ in 0..<2000 {
      let x = a.mutate(previous, target: target, others: target.seeds)
      XCTAssertEqual(x, b.mutate(previous, target: target, others: target.seeds))
      XCTAssertLessThanOrEqual(x.count, 4096)
      previous = x.isEmpty ? target.seeds[1] : x
    }
  }

  func testClaimsSayWhatTheyClaim() {
    let graph = FuzzTargets.named("graph-edges")!
    XCTAssertEqual(String(decoding: graph.claims[0](1_000_000_000), as: UTF8.self), "1000000000\n0 1\n")
    XCTAssertEqual(graph.decode(graph.claims[0](1_000_000_000)).isRejected, true)
    let wire = FuzzTargets.named("wire-frame")!
    XCTAssertEqual(wire.claims[0](1 << 30).count, 80, "a frame claiming 2^30 floats in 16 payload bytes")
  }
}

extension FuzzTarget.Outcome {
  var isRejected: Bool { if case .rejected = self { return true } else { return false } }
}
