#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a node reads the time and how it lets time pass.
///
/// Every deadline in the node runtime is measured on a `Clock`, never on `Date`, so the same
/// liveness code runs on the monotonic clock in production and on the embedded network's virtual
/// clock in tests, where a test steps a protocol through its timeouts without sleeping (the model
/// is swift-nio's `EmbeddedEventLoop.advanceTime(by:)`).
public protocol Clock: AnyObject, Sendable {
  /// Seconds on a monotonic scale (the origin is arbitrary).
  func now() -> Double
  /// Lets `seconds` pass on this clock: the straggler emulation's way of being slow.
  func sleep(_ seconds: Double)
  /// CPU seconds the process has used (`ProcessCPUClock`), or nil where that says nothing about
  /// the node: a virtual clock shares its process with every other node of the test.
  func cpuSeconds() -> Double?
}

extension Clock {
  public func cpuSeconds() -> Double? { ProcessCPUClock.seconds() }
}

/// The process's monotonic clock.
public final class SystemClock: Clock {
  public init() {}

  public func now() -> Double { MonotonicClock.now() }

  public func sleep(_ seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
  }
}
