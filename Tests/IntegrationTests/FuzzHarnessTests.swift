import Foundation
import XCTest

/// The fuzz harness in CI: every decoder survives 100,000 inputs of the release peerd-fuzz
/// (about a minute on two cores), and each kind of bug the harness looks for is reported when
/// a deliberately broken decoder has it.
final class FuzzHarnessTests: XCTestCase {
  struct Run {
    var status: Int32
    var signalled: Bool
    var output: String
  }

  func fuzz(_ args: [String]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try ClusterHarness.binary("peerd-fuzz"))
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    var env = ProcessInfo.processInfo.environment
    env["SWIFT_BACKTRACE"] = "enable=no"
    p.environment = env
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(
      status: p.terminationStatus, signalled: p.terminationReason == .uncaughtSignal,
      output: String(decoding: data, as: UTF8.self))
  }

  func testEveryDecoderSurvivesAHundredThousandInputs() throws {
    let seed = ProcessInfo.processInfo.environment["PEERD_FUZZ_SEED"] ?? "1"
    let findings = NSTemporaryDirectory() + "peerd-fuzz-ci-\(UUID().uuidString)"
    let run = try fuzz(["run", "--all", "--iterations", "100000", "--seed", seed, "--findings", findings])
    XCTAssertEqual(run.status, 0, run.output)
    XCTAssertFalse(run.signalled, run.output)
    let targets = try fuzz(["list"]).output.split(separator: "\n").map { String($0.split(separator: "\t")[0]) }
      .filter { !$0.contains("self-test") }
    XCTAssertGreaterThanOrEqual(targets.count, 10)
    for target in targets {
      XCTAssertTrue(
        run.output.contains("seed \(seed): \(target): 100000 inputs")
          && run.output.contains("\(target): 100000 inputs ("),
        "\(target) did not run 100,000 inputs:\n\(run.output)")
    }
    XCTAssertFalse(run.output.contains("FINDING"), run.output)
    print(run.output)
  }

  func testAnAllocationSizedByAClaimIsReported() throws {
    let run = try fuzz(["run", "--target", "self-test-greedy", "--iterations", "200"])
    XCTAssertEqual(run.status, 1, run.output)
    XCTAssertTrue(
      run.output.contains(
        "FINDING self-test-greedy: allocated 268435488 bytes at once for a 4-byte input (bound 1048832); input 00ca9a3b"
      ),
      run.output)
  }

  func testACrashIsReportedWithItsInput() throws {
    let findings = NSTemporaryDirectory() + "peerd-fuzz-crash-\(UUID().uuidString)"
    let run = try fuzz(["run", "--target", "self-test-trap", "--iterations", "10", "--findings", findings])
    XCTAssertTrue(run.signalled, run.output)
    XCTAssertTrue(
      run.output.contains(
        "peerd-fuzz: CRASH in target self-test-trap on input 54524150 (saved to \(findings)/crash-self-test-trap.bin)"),
      run.output)
    XCTAssertEqual(FileManager.default.contents(atPath: findings + "/crash-self-test-trap.bin"), Data("TRAP".utf8))
  }

  func testAHangIsReportedWithItsInput() throws {
    let findings = NSTemporaryDirectory() + "peerd-fuzz-hang-\(UUID().uuidString)"
    let run = try fuzz(["run", "--target", "self-test-hang", "--hang-seconds", "1", "--findings", findings])
    XCTAssertEqual(run.status, 3, run.output)
    XCTAssertTrue(
      run.output.contains(
        "peerd-fuzz: HANG in target self-test-hang on input 48414e47 (saved to \(findings)/hang-self-test-hang.bin)"),
      run.output)
  }
}
