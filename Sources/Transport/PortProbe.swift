#if canImport(Glibc)
  import Glibc
#endif

/// Asks the kernel whether a node could bind its ROUTER on `host:port`, without starting it.
///
/// The launcher runs this on every host before any process starts, so that a second run on the
/// same machine, or a stray process, is reported as "port P on H is in use" instead of a node
/// failing at bind half-way through a start. The probe binds a TCP socket the way ZeroMQ's
/// listener does (`SO_REUSEADDR` set, so a port in TIME_WAIT counts as free, as it does for
/// peerd), then closes it. It is a snapshot: a process may still take the port afterwards.
public enum PortProbe {
  public enum Outcome: Equatable, Sendable {
    case free
    /// Bound by another socket: a listener, or a connection using it as its local port.
    case inUse(reason: String)
    /// `host` is not an address of this machine, or does not resolve.
    case unusableHost(reason: String)
  }

  /// Whether `port` on `host` (an address or a name that resolves to one of this machine's).
  public static func check(host: String, port: Int) -> Outcome {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_NUMERICSERV
    var list: UnsafeMutablePointer<addrinfo>?
    let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    let rc = getaddrinfo(name, String(port), &hints, &list)
    guard rc == 0, let first = list else {
      return .unusableHost(reason: "cannot resolve '\(host)': \(String(cString: gai_strerror(rc)))")
    }
    defer { freeaddrinfo(list) }
    let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
    guard fd >= 0 else { return .unusableHost(reason: "socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var on: Int32 = 1
    _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
    if bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 { return .free }
    let code = errno
    let reason = String(cString: strerror(code))
    if code == EADDRINUSE || code == EACCES { return .inUse(reason: reason) }
    return .unusableHost(reason: "\(reason) (is '\(host)' an address of this machine?)")
  }
}
