import Foundation
import Numerics

#if canImport(Glibc)
  import Glibc
#endif

/// Reports the two failures that end the process: a crash (a Swift trap is SIGILL or SIGTRAP,
/// a bad access SIGSEGV) and a hang. Either way the input being decoded is written to standard
/// error as hex and to `crash-<target>.bin` / `hang-<target>.bin` in the findings folder, so it
/// can be replayed with `peerd-fuzz replay`.
///
/// The signal handler may only call async-signal-safe functions, so everything it needs (the
/// input, the file names) is copied into preallocated C buffers before each decode.
enum CrashReporter {
  static let capacity = 1 << 17
  // Written by the fuzzing thread before each decode, read by the signal handler and the
  // watchdog; plain words, so a torn read at worst delays the watchdog by one tick.
  nonisolated(unsafe) static let input = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
  nonisolated(unsafe) static var length = 0
  nonisolated(unsafe) static var started = 0.0
  nonisolated(unsafe) static let crashPath = UnsafeMutablePointer<CChar>.allocate(capacity: 4096)
  nonisolated(unsafe) static let hangPath = UnsafeMutablePointer<CChar>.allocate(capacity: 4096)
  nonisolated(unsafe) static let label = UnsafeMutablePointer<CChar>.allocate(capacity: 256)

  /// Installs the signal handlers and the watchdog (a decode running past `hangSeconds` ends
  /// the process with exit code 3).
  static func install(hangSeconds: Double) {
    for sig in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
      var action = sigaction()
      action.__sigaction_handler.sa_handler = { sig in CrashReporter.died(signal: sig) }
      sigemptyset(&action.sa_mask)
      sigaction(sig, &action, nil)
    }
    let watchdog = Thread {
      while true {
        usleep(100_000)
        let since = started
        if since > 0 && MonotonicClock.now() - since > hangSeconds {
          report("HANG", path: hangPath)
          _exit(3)
        }
      }
    }
    watchdog.start()
  }

  /// Names the target and where its crash and hang inputs go.
  static func prepare(target: String, folder: String) {
    func copy(_ s: String, into p: UnsafeMutablePointer<CChar>, capacity: Int) {
      let bytes = Array(s.utf8.prefix(capacity - 1))
      for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
      p[bytes.count] = 0
    }
    copy(target, into: label, capacity: 256)
    copy("\(folder)/crash-\(target).bin", into: crashPath, capacity: 4096)
    copy("\(folder)/hang-\(target).bin", into: hangPath, capacity: 4096)
  }

  /// Called before each decode.
  static func willDecode(_ bytes: [UInt8]) {
    length = min(bytes.count, capacity)
    bytes.withUnsafeBufferPointer { src in
      if let base = src.baseAddress { input.update(from: base, count: length) }
    }
    started = MonotonicClock.now()
  }

  static func didDecode() { started = 0 }

  static func died(signal sig: Int32) {
    report("CRASH", path: crashPath)
    signal(sig, SIG_DFL)
    raise(sig)
  }

  /// Writes "peerd-fuzz: WHAT in target T on input HEX" to standard error and the input to
  /// `path`, with write(2) only.
  static func report(_ what: StaticString, path: UnsafeMutablePointer<CChar>) {
    func put(_ p: UnsafeRawPointer, _ n: Int) { _ = write(2, p, n) }
    func put(_ s: StaticString) { put(s.utf8Start, s.utf8CodeUnitCount) }
    put("\npeerd-fuzz: ")
    put(what)
    put(" in target ")
    put(label, strlen(label))
    put(" on input ")
    let digits: StaticString = "0123456789abcdef"
    var pair: (UInt8, UInt8) = (0, 0)
    for i in 0..<min(length, 4096) {
      pair = (digits.utf8Start[Int(input[i] >> 4)], digits.utf8Start[Int(input[i] & 15)])
      withUnsafeBytes(of: &pair) { put($0.baseAddress!, 2) }
    }
    put(" (saved to ")
    put(path, strlen(path))
    put(")\n")
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd >= 0 {
      _ = write(fd, input, length)
      close(fd)
    }
  }
}
