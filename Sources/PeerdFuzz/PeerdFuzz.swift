import CFuzzSupport
import Foundation
import Fuzzing
import Numerics

/// The real allocation meter: peerd-fuzz's malloc family counts this thread's requests while
/// `body` runs (Sources/CFuzzSupport).
let mallocMeter = AllocationMeter { body in
  peerd_allocations_begin()
  body()
  var largest = 0
  var total = 0
  peerd_allocations_end(&largest, &total)
  return (largest, total)
}

#if LIBFUZZER
  // Built with `swift build --sanitize fuzzer -Xswiftc -DLIBFUZZER` (docs/fuzzing.md): libFuzzer
  // drives one target, named by $PEERD_FUZZ_TARGET, with coverage feedback. Half the mutations
  // are libFuzzer's own, half the harness's structure-aware ones; a finding aborts, so libFuzzer
  // saves the input.

  nonisolated(unsafe) var target = FuzzTargets.all[0]
  nonisolated(unsafe) var runner = FuzzRunner(meter: mallocMeter)

  @_cdecl("LLVMFuzzerInitialize")
  public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
  ) -> CInt {
    let name = ProcessInfo.processInfo.environment["PEERD_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTargets.named(name) else {
      StandardError.write(
        "peerd-fuzz: set PEERD_FUZZ_TARGET to one of \(FuzzTargets.all.map(\.name).joined(separator: ", "))")
      exit(2)
    }
    target = t
    return 0
  }

  @_cdecl("LLVMFuzzerTestOneInput")
  public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let (_, findings, _) = runner.check(target, input)
    if let finding = findings.first {
      StandardError.write("peerd-fuzz: \(finding)")
      abort()
    }
    return 0
  }

  @_cdecl("LLVMFuzzerCustomMutator")
  public func fuzzerCustomMutator(
    _ data: UnsafeMutablePointer<UInt8>?, _ size: Int, _ maxSize: Int, _ seed: CUnsignedInt
  )
    -> Int
  {
    guard let data else { return 0 }
    if seed % 2 == 0 && size > 0 { return LLVMFuzzerMutate(data, size, maxSize) }
    var mutator = Mutator(seed: UInt64(seed), maximumSize: maxSize)
    let pool = target.seeds + target.claims.map { $0(Int(seed % 100_000)) }
    let base = size == 0 ? pool[Int(seed) % pool.count] : Array(UnsafeBufferPointer(start: data, count: size))
    let out = mutator.mutate(base, target: target, others: pool).prefix(maxSize)
    for (i, b) in out.enumerated() { data[i] = b }
    return out.count
  }
#else
  @main
  struct PeerdFuzzMain {
    static func main() { PeerdFuzz.main() }
  }
#endif
