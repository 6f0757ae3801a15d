import Foundation
import Numerics

/// An in-memory network for tests of the node loop: several nodes in one process, no sockets.
///
/// Like swift-nio's `EmbeddedChannel`, it lets the protocol logic run without the network. Each
/// node usually runs on its own thread, so the network is a lock-protected mailbox per uid;
/// `receive` waits on a condition variable with a deadline. A node can be killed (its mailbox
/// is dropped and sends to or from it fail) to test liveness, and raw bytes can be injected to
/// test how a node treats malformed frames.
public final class InProcessNetwork: @unchecked Sendable {
  // All mutable state is guarded by `condition`.
  private let condition = NSCondition()
  private var queues: [Int: [InboundMessage]] = [:]
  private var dead: Set<Int> = []
  private var deliveredCount = 0

  public init() {}

  /// A transport endpoint for `uid` on this network.
  public func transport(uid: Int) -> InProcessTransport {
    condition.lock()
    if queues[uid] == nil { queues[uid] = [] }
    condition.unlock()
    return InProcessTransport(uid: uid, network: self)
  }

  /// Frames delivered so far.
  public var delivered: Int {
    condition.lock()
    defer { condition.unlock() }
    return deliveredCount
  }

  /// Simulates a crash: drops `uid`'s mailbox; messages to or from it are lost from now on.
  public func kill(_ uid: Int) {
    condition.lock()
    dead.insert(uid)
    queues[uid] = []
    condition.unlock()
  }

  /// Puts raw bytes in `uid`'s mailbox as if `sender` had sent them.
  public func inject(_ bytes: [UInt8], from sender: Int, to uid: Int) {
    condition.lock()
    queues[uid, default: []].append(InboundMessage(sender: sender, bytes: bytes))
    condition.broadcast()
    condition.unlock()
  }

  func deliver(_ frame: SharedBytes, from: Int, to: Int) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    guard !dead.contains(to), !dead.contains(from), queues[to] != nil else { return false }
    queues[to]!.append(InboundMessage(sender: from, frame: frame))
    deliveredCount += 1
    condition.broadcast()
    return true
  }

  func take(_ uid: Int, timeout: Double) -> InboundMessage? {
    let deadline = Date(timeIntervalSinceNow: max(0, timeout))
    condition.lock()
    defer { condition.unlock() }
    while true {
      if dead.contains(uid) { return nil }
      if var q = queues[uid], !q.isEmpty {
        let m = q.removeFirst()
        queues[uid] = q
        return m
      }
      if timeout <= 0 || !condition.wait(until: deadline) { return nil }
    }
  }
}

/// One node's end of an `InProcessNetwork`.
public final class InProcessTransport: MessageTransport {
  public let localUID: Int
  let network: InProcessNetwork

  init(uid: Int, network: InProcessNetwork) {
    localUID = uid
    self.network = network
  }

  @discardableResult
  public func send(_ frame: SharedBytes, to uid: Int) -> Bool { network.deliver(frame, from: localUID, to: uid) }

  public func receive(timeout: Double) -> InboundMessage? { network.take(localUID, timeout: timeout) }

  public func close() {}
}
