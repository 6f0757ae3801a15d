import Foundation
import Numerics

/// Measures what a closure allocates: the largest single request and the sum, in bytes.
///
/// peerd-fuzz installs the real meter (its own malloc family, Sources/CFuzzSupport); tests of
/// the harness inject fakes.
public struct AllocationMeter: Sendable {
  public var measure: @Sendable (() -> Void) -> (largest: Int, total: Int)
  public init(measure: @escaping @Sendable (() -> Void) -> (largest: Int, total: Int)) { self.measure = measure }
  public static let none = AllocationMeter { body in
    body()
    return (0, 0)
  }
}

/// Something wrong with how a decoder handled one input. Crashes and hangs end the process, so
/// peerd-fuzz reports those itself (with the input saved); these are the rest.
public struct FuzzFinding: Sendable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// One allocation larger than the target's bound for this input size.
    case allocation(bytes: Int, bound: Int)
    /// A decode that finished but took longer than the runner's `slowLimit`.
    case slow(seconds: Double)
    /// A rejection that is not one short line a user can read (several lines, a whole file
    /// echoed, a raw Foundation or zlib error).
    case message(String)
  }

  public var target: String
  public var kind: Kind
  public var input: [UInt8]

  public var description: String {
    let what: String
    switch kind {
    case .allocation(let bytes, let bound):
      what = "allocated \(bytes) bytes at once for a \(input.count)-byte input (bound \(bound))"
    case .slow(let seconds): what = "took \(String(format: "%.3f", seconds)) s on a \(input.count)-byte input"
    case .message(let m): what = "rejected with an unreadable message: \(m.prefix(200).debugDescription)"
    }
    return "\(target): \(what); input \(FuzzFinding.hex(input))"
  }

  /// The input as hex (the first 256 bytes, then the length).
  public static func hex(_ bytes: [UInt8]) -> String {
    let shown = bytes.prefix(256).map { String(format: "%02x", $0) }.joined()
    return bytes.count > 256 ? "\(shown)… (\(bytes.count) bytes)" : shown
  }
}

/// What one target's run did.
public struct FuzzReport: Sendable, CustomStringConvertible {
  public var target: String
  public var iterations = 0
  public var accepted = 0
  public var findings: [FuzzFinding] = []
  /// Findings past the first few of each kind, counted but not kept.
  public var moreFindings = 0
  public var largestAllocation = 0
  public var largestAllocationBound = 0
  public var slowest = 0.0
  public var seconds = 0.0

  public var description: String {
    let findingCount = findings.count + moreFindings
    return "\(target): \(iterations) inputs (\(accepted) accepted, \(iterations - accepted) rejected), "
      + "\(findingCount) finding\(findingCount == 1 ? "" : "s"), largest allocation \(largestAllocation) bytes "
      + "(bound there \(largestAllocationBound)), slowest input \(String(format: "%.1f", slowest * 1000)) ms, "
      + "\(String(format: "%.1f", seconds)) s"
  }
}

/// The seeded mutation loop: seeds as they are, then the targets' claims, then mutants of
/// seeds, claims and accepted inputs, each decoded under the allocation meter and the clock.
public struct FuzzRunner {
  public var meter: AllocationMeter
  /// A decode slower than this is a finding (a hang is caught by peerd-fuzz's watchdog).
  public var slowLimit: Double
  /// Called with each input before it is decoded, so a crash can be reported with it.
  public var willDecode: ([UInt8]) -> Void = { _ in }

  /// The counts every claim is made with, up to 10^12 (past 32 bits, where a field has them).
  /// Inputs larger than this are not mutated further.
  public static let poolInputLimit = 8 << 10

  public static let claimedCounts = [
    0, 1, 10, 1000, 65535, 100_000, 10_000_000, 1_000_000_000, 4_294_967_295, 1_000_000_000_000,
  ]

  public init(meter: AllocationMeter, slowLimit: Double = 2) {
    self.meter = meter
    self.slowLimit = slowLimit
  }

  /// Decodes one input and returns what is wrong with how it was handled (empty when nothing).
  public func check(_ target: FuzzTarget, _ input: [UInt8]) -> (FuzzTarget.Outcome, [FuzzFinding], Int) {
    var outcome = FuzzTarget.Outcome.accepted
    willDecode(input)
    let start = MonotonicClock.now()
    let (largest, _) = meter.measure { outcome = target.decode(input) }
    let elapsed = MonotonicClock.now() - start
    var findings: [FuzzFinding] = []
    let bound = target.allocationBound(inputSize: input.count)
    if largest > bound {
      findings.append(FuzzFinding(target: target.name, kind: .allocation(bytes: largest, bound: bound), input: input))
    }
    if elapsed > slowLimit {
      findings.append(FuzzFinding(target: target.name, kind: .slow(seconds: elapsed), input: input))
    }
    if case .rejected(let message) = outcome, !Self.isReadable(message) {
      findings.append(FuzzFinding(target: target.name, kind: .message(message), input: input))
    }
    return (outcome, findings, largest)
  }

  /// One line, short (a message quotes a token, not a file), in words, and free of the input's
  /// control characters.
  public static func isReadable(_ message: String) -> Bool {
    !message.isEmpty && message.count <= 400 && !message.contains(where: \.isNewline)
      && !message.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
      && !message.contains("Error Domain=") && !message.contains("zlib status")
  }

  /// Runs `iterations` inputs of `target` (at least its seeds and claims) from `seed`.
  public func run(_ target: FuzzTarget, iterations: Int, seed: UInt64) -> FuzzReport {
    var report = FuzzReport(target: target.name)
    var mutator = Mutator(seed: seed)
    let claims = target.claims.flatMap { claim in Self.claimedCounts.map { claim($0) } }
    // Large claims (thousands of repeated records) are decoded once each but not mutated:
    // mutants of small inputs find the same bugs many times faster.
    var pool = target.seeds + claims.filter { $0.count <= Self.poolInputLimit }
    let fixed = pool.count
    var kept = 0
    var perKind: [String: Int] = [:]
    let start = MonotonicClock.now()
    for i in 0..<max(iterations, target.seeds.count + claims.count) {
      let input: [UInt8]
      if i < target.seeds.count {
        input = target.seeds[i]
      } else if i < target.seeds.count + claims.count {
        input = claims[i - target.seeds.count]
      } else {
        let base = pool[mutator.below(pool.count)]
        input = mutator.mutate(base, target: target, others: pool)
      }
      let t0 = MonotonicClock.now()
      let (outcome, findings, largest) = check(target, input)
      report.slowest = max(report.slowest, MonotonicClock.now() - t0)
      report.iterations += 1
      if largest > report.largestAllocation {
        report.largestAllocation = largest
        report.largestAllocationBound = target.allocationBound(inputSize: input.count)
      }
      if outcome == .accepted {
        report.accepted += 1
        // Accepted mutants are the interesting ones to mutate further: they passed validation.
        if i >= fixed && input.count <= Self.poolInputLimit {
          if pool.count < fixed + 256 { pool.append(input) } else { pool[fixed + kept % 256] = input }
          kept += 1
        }
      }
      for f in findings {
        let key = "\(f.kind)".prefix(12)
        perKind[String(key), default: 0] += 1
        if perKind[String(key)]! <= 5 { report.findings.append(f) } else { report.moreFindings += 1 }
      }
    }
    report.seconds = MonotonicClock.now() - start
    return report
  }
}
