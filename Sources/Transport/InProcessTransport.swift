/// An in-memory network for tests of the node loop: several nodes in one thread, no sockets.
///
/// Like swift-nio's `EmbeddedChannel`, it makes protocol logic testable deterministically. A node
/// can be killed (its queue is dropped and sends to it fail) to test liveness.
public final class InProcessNetwork {
  var queues: [Int: [InboundMessage]] = [:]
  var dead: Set<Int> = []
  /// Frames delivered so far, for assertions.
  public private(set) var delivered = 0

  public init() {}

  /// A transport endpoint for `uid` on this network.
  public func transport(uid: Int) -> InProcessTransport {
    queues[uid] = queues[uid] ?? []
    return InProcessTransport(uid: uid, network: self)
  }

  /// Simulates a crash: drops `uid`'s queue; messages to it are lost from now on.
  public func kill(_ uid: Int) {
    dead.insert(uid)
    queues[uid] = []
  }

  func deliver(_ bytes: [UInt8], from: Int, to: Int) -> Bool {
    guard !dead.contains(to), !dead.contains(from), queues[to] != nil else { return false }
    queues[to]!.append(InboundMessage(sender: from, bytes: bytes))
    delivered += 1
    return true
  }

  func take(_ uid: Int) -> InboundMessage? {
    guard var q = queues[uid], !q.isEmpty else { return nil }
    let m = q.removeFirst()
    queues[uid] = q
    return m
  }
}

/// One node's end of an `InProcessNetwork`. `receive` never sleeps: in a single-threaded test the
/// other nodes cannot produce anything while this one waits, so an empty queue returns nil.
public final class InProcessTransport: MessageTransport {
  public let localUID: Int
  let network: InProcessNetwork

  init(uid: Int, network: InProcessNetwork) {
    localUID = uid
    self.network = network
  }

  @discardableResult
  public func send(_ bytes: [UInt8], to uid: Int) -> Bool { network.deliver(bytes, from: localUID, to: uid) }

  public func receive(timeout: Double) -> InboundMessage? { network.take(localUID) }

  public func close() {}
}
