/// A message as it came off the network: who the transport says sent it, and its bytes.
public struct InboundMessage: Sendable {
  /// The sender's uid, from its socket's routing identity (not from the frame itself).
  public var sender: Int
  public var bytes: [UInt8]

  public init(sender: Int, bytes: [UInt8]) {
    self.sender = sender
    self.bytes = bytes
  }
}

/// How a node talks to its peers. The node loop depends only on this, so the same loop runs over
/// real ZeroMQ (`ZMQTransport`) and, in tests, in memory (`InProcessTransport`).
///
/// Contract: used from one thread; `send` never blocks; `receive` blocks at most `timeout`.
public protocol MessageTransport: AnyObject {
  var localUID: Int { get }
  /// Queues a whole encoded frame for `uid`. Returns false when it could not be queued (unknown
  /// peer, or the peer's queue is full because it is not reading).
  @discardableResult func send(_ bytes: [UInt8], to uid: Int) -> Bool
  /// Waits at most `timeout` seconds (0 polls) for one message; nil on timeout.
  func receive(timeout: Double) -> InboundMessage?
  /// Flushes what can be flushed within a short linger, then releases every socket.
  func close()
}

/// Why the transport could not start.
public enum TransportError: Error, CustomStringConvertible, Sendable {
  case bindFailed(endpoint: String, reason: String)
  case connectFailed(endpoint: String, reason: String)
  case socketFailed(String)

  public var description: String {
    switch self {
    case .bindFailed(let e, let r): return "cannot bind \(e): \(r) (is another peerd using this port?)"
    case .connectFailed(let e, let r): return "cannot connect to \(e): \(r)"
    case .socketFailed(let r): return "ZeroMQ socket error: \(r)"
    }
  }
}
