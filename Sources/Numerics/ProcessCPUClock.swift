#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// CPU seconds this process has used, user and system, over all its threads (the node loop,
/// BLAS, ZeroMQ's I/O thread and the kernel's socket work on their behalf). Beside wall-clock
/// round times, which on a shared machine are mostly waiting for peers, it says what a round
/// costs the machine: the figure that decides how many nodes fit on one.
public enum ProcessCPUClock {
  public static func seconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }
}
