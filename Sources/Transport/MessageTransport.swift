import Numerics

/// A message as it came off the network: who the transport says sent it, and its bytes.
public struct InboundMessage: Sendable {
  /// The sender's uid, from its socket's routing identity (not from the frame itself).
  public var sender: Int
  /// The frame, in the memory the transport received it into (no copy).
  public var frame: SharedBytes

  public init(sender: Int, frame: SharedBytes) {
    self.sender = sender
    self.frame = frame
  }

  public init(sender: Int, bytes: [UInt8]) {
    self.init(sender: sender, frame: SharedBytes(bytes))
  }

  /// A copy of the frame's bytes.
  public var bytes: [UInt8] { frame.array }
}

/// How a node talks to any other node of its address book. The runtime depends only on this, so
/// the same loop runs over real ZeroMQ (`ZMQTransport`) and, in tests, over the deterministic
/// `EmbeddedNetwork`.
///
/// Contract: used from one thread; `send` never blocks; `receive` blocks at most `timeout`
/// seconds of the transport's clock. Connections are the transport's business: the first send to
/// a uid opens one (decentralizepy's `init_connection`), `disconnect` closes it.
public protocol MessageTransport: AnyObject {
  var localUID: Int { get }
  /// Queues a whole encoded frame for `uid` without copying it: the transport keeps a reference
  /// until the bytes are gone, so one frame can be queued to many peers. Returns false when it
  /// could not be queued (a uid with no address, or a full queue to a peer that is not reading).
  @discardableResult func send(_ frame: SharedBytes, to uid: Int) -> Bool
  /// Waits at most `timeout` seconds (0 polls) for one message; nil on timeout. Throws once the
  /// transport is closed (or, on the embedded network, once this node has been killed).
  func receive(timeout: Double) throws(TransportError) -> InboundMessage?
  /// Closes the connection to `uid`, if one is open; a later send opens a new one.
  func disconnect(_ uid: Int)
  /// Frames the transport itself dropped before they reached the node (malformed routing,
  /// multi-part messages), by reason.
  var drops: [String: Int] { get }
  /// Incoming connections closed under the node (a peer that exited, an oversize message);
  /// timing-dependent, so reported apart from rejects.
  var connectionsClosed: Int { get }
  /// Flushes what can be flushed within a short linger, then releases every socket.
  func close()
}

extension MessageTransport {
  public var connectionsClosed: Int { 0 }

  /// Queues a copy of `bytes` (control frames, tests).
  @discardableResult public func send(_ bytes: [UInt8], to uid: Int) -> Bool { send(SharedBytes(bytes), to: uid) }
}

/// Why the transport could not start, or stopped.
public enum TransportError: Error, CustomStringConvertible, Sendable, Equatable {
  case bindFailed(endpoint: String, reason: String)
  case connectFailed(endpoint: String, reason: String)
  case socketFailed(String)
  /// The transport was closed (or the embedded node was killed); nothing more can be received.
  case closed

  public var description: String {
    switch self {
    case .bindFailed(let e, let r):
      let hint =
        r.lowercased().contains("assign")
        ? "is this host in the IP JSON an address of this machine?" : "is another peerd using this port?"
      return "cannot bind \(e): \(r) (\(hint))"
    case .connectFailed(let e, let r): return "cannot connect to \(e): \(r)"
    case .socketFailed(let r): return "ZeroMQ socket error: \(r)"
    case .closed: return "the transport is closed"
    }
  }
}
