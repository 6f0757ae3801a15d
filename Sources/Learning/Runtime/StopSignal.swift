#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// SIGTERM and SIGINT as a request to stop gracefully, checked by the node loop.
///
/// The handler only stores the signal number; the loop notices it at its next wait or between
/// training batches, abandons the round, says BYE, writes its results, final weights and a
/// checkpoint, and exits with `NodeOutcome.stopped`'s code. Handlers are installed explicitly for
/// both signals, because a process started in the background by a non-interactive shell inherits
/// SIGINT ignored.
public enum StopSignal {
  /// Written by the signal handler, read by the loop. Allocated before any handler is installed,
  /// so the handler never triggers a lazy initialisation.
  nonisolated(unsafe) private static let received: UnsafeMutablePointer<sig_atomic_t> = {
    let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
    p.pointee = 0
    return p
  }()

  /// Installs the handlers (idempotent).
  public static func install() {
    let flag = received
    _ = flag
    for sig in [SIGTERM, SIGINT] {
      _ = signal(sig) { number in StopSignal.store(number) }
    }
  }

  private static func store(_ number: Int32) { received.pointee = sig_atomic_t(number) }

  /// The signal that asked to stop, or nil.
  public static var pending: Int32? {
    let v = received.pointee
    return v == 0 ? nil : Int32(v)
  }

  /// For tests: forget a received signal.
  public static func reset() { received.pointee = 0 }
}
