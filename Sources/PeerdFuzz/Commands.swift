import ArgumentParser
import Foundation
import Fuzzing
import Numerics

/// `peerd-fuzz`: the seeded, structure-aware mutation loop over every decoder (docs/fuzzing.md).
struct PeerdFuzz: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "peerd-fuzz",
    abstract: "Fuzz peerd's decoders: no crash, no hang, bounded allocation, one-line errors.",
    discussion: "Exit codes: 0 no finding, 1 findings (printed with their inputs), 2 bad flags, 3 a hang; "
      + "a crash ends the process by its signal after printing the input.",
    subcommands: [RunCommand.self, ListCommand.self, SeedsCommand.self, ReplayCommand.self],
    defaultSubcommand: RunCommand.self)
}

struct ListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "list", abstract: "List the targets.")
  func run() {
    for t in FuzzTargets.all {
      print("\(t.name)\(t.isSelfTest ? " (self-test)" : "")\t\(t.seeds.count) seeds, \(t.claims.count) claims")
    }
  }
}

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Run the mutation loop over some targets or all of them.")

  @Option(name: .customLong("target"), help: "A target to run (repeatable); see 'peerd-fuzz list'.")
  var targets: [String] = []
  @Flag(help: "Run every decoder (not the self-tests).")
  var all = false
  @Option(help: "Inputs per target (at least its seeds and claims).")
  var iterations = 100_000
  @Option(help: "Keep going for this many seconds per target, in rounds of --iterations with fresh seeds.")
  var seconds: Double?
  @Option(help: "Seed of the mutation stream (the run is repeated exactly by it).")
  var seed: UInt64 = 1
  @Option(help: "A decode slower than this many seconds is a finding.")
  var slowLimit = 2.0
  @Option(help: "A decode running this many seconds is a hang: the input is saved and the process exits 3.")
  var hangSeconds = 20.0
  @Option(help: "Folder for crash and hang inputs and findings.")
  var findings = NSTemporaryDirectory() + "peerd-fuzz"

  func validate() throws {
    if all && !targets.isEmpty { throw ValidationError("give --all or --target, not both") }
    if !all && targets.isEmpty { throw ValidationError("give --all or one or more --target") }
    for name in targets where FuzzTargets.named(name) == nil {
      throw ValidationError("no target '\(name)'; see 'peerd-fuzz list'")
    }
  }

  func run() throws {
    try FileSystem.createDirectory(findings, for: "create the findings folder")
    CrashReporter.install(hangSeconds: hangSeconds)
    var runner = FuzzRunner(meter: mallocMeter, slowLimit: slowLimit)
    runner.willDecode = { CrashReporter.willDecode($0) }
    var failed = false
    for target in all ? FuzzTargets.decoders : targets.compactMap(FuzzTargets.named) {
      CrashReporter.prepare(target: target.name, folder: findings)
      var round: UInt64 = 0
      let start = MonotonicClock.now()
      repeat {
        let report = runner.run(target, iterations: iterations, seed: seed &+ round)
        CrashReporter.didDecode()
        StandardError.writeOut("peerd-fuzz: seed \(seed &+ round): \(report)")
        for (k, f) in report.findings.enumerated() {
          StandardError.writeOut("peerd-fuzz: FINDING \(f)")
          try? FileSystem.write(
            f.input, to: "\(findings)/finding-\(target.name)-\(seed &+ round)-\(k).bin", for: "save the finding")
        }
        if report.moreFindings > 0 { StandardError.writeOut("peerd-fuzz: … and \(report.moreFindings) more findings") }
        failed = failed || !report.findings.isEmpty
        round += 1
      } while seconds.map { MonotonicClock.now() - start < $0 } ?? false
    }
    if failed { throw ExitCode(1) }
  }
}

struct SeedsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seeds", abstract: "Write a target's seeds and claims as files (a libFuzzer corpus).")
  @Option(help: "The target.")
  var target: String
  @Option(help: "The folder to write to.")
  var output: String

  func run() throws {
    guard let t = FuzzTargets.named(target) else { throw ValidationError("no target '\(target)'") }
    try FileSystem.createDirectory(output, for: "create the corpus folder")
    let inputs = t.seeds + t.claims.flatMap { claim in FuzzRunner.claimedCounts.map { claim($0) } }
    for (i, input) in inputs.enumerated() {
      try FileSystem.write(input, to: "\(output)/seed-\(i)", for: "write a seed")
    }
    print("peerd-fuzz: \(inputs.count) inputs in \(output)")
  }
}

struct ReplayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay", abstract: "Decode saved inputs (crash, hang or finding files) and print what happens.")
  @Option(help: "The target.")
  var target: String
  @Argument(help: "Input files.")
  var files: [String]

  func run() throws {
    guard let t = FuzzTargets.named(target) else { throw ValidationError("no target '\(target)'") }
    let runner = FuzzRunner(meter: mallocMeter)
    var failed = false
    for file in files {
      guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
      let (outcome, findings, largest) = runner.check(t, [UInt8](data))
      print("\(file): \(outcome), largest allocation \(largest) bytes")
      for f in findings { print("  FINDING \(f)") }
      failed = failed || !findings.isEmpty
    }
    if failed { throw ExitCode(1) }
  }
}
