import CZeroMQ
import Foundation
import Sharing
import Transport

/// A ZeroMQ DEALER driven by hand from a test: it speaks to a node's ROUTER with any routing
/// identity and any bytes, the way a hostile program on the network would.
///
/// One per connection (the routing identity is per socket). Sends never block: a send the
/// socket cannot queue is reported, so a test knows exactly what it put on the wire. `close()`
/// lingers until everything queued has left, so a node receives every frame sent.
final class RawZMQClient {
  private let context: UnsafeMutableRawPointer
  private let socket: UnsafeMutableRawPointer
  private let monitor: UnsafeMutableRawPointer
  private var closed = false
  /// Connections ZeroMQ reported closed under this client (the node dropped it, or it reconnected).
  private(set) var disconnects = 0

  /// `reconnect: false`: a connection the node closes stays closed.
  init(endpoint: String, identity: [UInt8]?, sendQueue: Int32 = 100_000, reconnect: Bool = true) {
    let ctx = zmq_ctx_new()!
    let s = zmq_socket(ctx, ZMQ_DEALER)!
    if let identity {
      _ = identity.withUnsafeBytes { zmq_setsockopt(s, ZMQ_ROUTING_ID, $0.baseAddress, $0.count) }
    }
    Self.set(s, ZMQ_SNDHWM, sendQueue)
    Self.set(s, ZMQ_LINGER, 10_000)
    if !reconnect { Self.set(s, ZMQ_RECONNECT_IVL, -1) }
    let name = "inproc://raw-client-monitor-\(UInt(bitPattern: s))"
    zmq_socket_monitor(s, name, ZMQ_EVENT_DISCONNECTED)
    let pair = zmq_socket(ctx, ZMQ_PAIR)!
    zmq_connect(pair, name)
    zmq_connect(s, endpoint)
    context = ctx
    socket = s
    monitor = pair
  }

  convenience init(endpoint: String, identity: String, sendQueue: Int32 = 100_000, reconnect: Bool = true) {
    self.init(endpoint: endpoint, identity: Array(identity.utf8), sendQueue: sendQueue, reconnect: reconnect)
  }

  deinit { close() }

  /// Queues one message of `parts`; false when the socket would not take it now.
  @discardableResult
  func send(_ parts: [[UInt8]]) -> Bool {
    for (i, part) in parts.enumerated() {
      let flags = ZMQ_DONTWAIT | (i < parts.count - 1 ? ZMQ_SNDMORE : 0)
      let rc = part.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
      if rc < 0 { return false }
    }
    return true
  }

  @discardableResult
  func send(_ frame: [UInt8]) -> Bool { send([frame]) }

  /// Sends `frame` `count` times, waiting whenever the queue is full; returns how many went out.
  @discardableResult
  func send(_ frame: [UInt8], times count: Int) -> Int {
    var sent = 0
    while sent < count {
      if send(frame) { sent += 1 } else { Thread.sleep(forTimeInterval: 0.001) }
    }
    return sent
  }

  /// Waits until the connection is up (ZeroMQ connects in the background).
  func waitUntilConnected() { Thread.sleep(forTimeInterval: 0.2) }

  /// Counts the disconnect events reported so far, waiting up to `timeout` for at least one.
  func waitForDisconnect(timeout: Double) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    repeat {
      readMonitor()
      if disconnects > 0 { return true }
      Thread.sleep(forTimeInterval: 0.01)
    } while Date() < deadline
    return false
  }

  private func readMonitor() {
    var message = zmq_msg_t()
    while true {
      zmq_msg_init(&message)
      guard zmq_msg_recv(&message, monitor, ZMQ_DONTWAIT) >= 0 else {
        zmq_msg_close(&message)
        return
      }
      let more = zmq_msg_more(&message) != 0
      if zmq_msg_size(&message) >= 2 {
        let head = zmq_msg_data(&message)!.assumingMemoryBound(to: UInt8.self)
        if Int32(UInt16(head[0]) | UInt16(head[1]) << 8) == ZMQ_EVENT_DISCONNECTED { disconnects += 1 }
      }
      zmq_msg_close(&message)
      if more {
        zmq_msg_init(&message)
        _ = zmq_msg_recv(&message, monitor, 0)
        zmq_msg_close(&message)
      }
    }
  }

  /// Closes the socket after everything queued has been written (up to 10 s).
  func close() {
    guard !closed else { return }
    closed = true
    zmq_socket_monitor(socket, nil, 0)
    zmq_close(monitor)
    zmq_close(socket)
    zmq_ctx_term(context)
  }

  private static func set(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ value: Int32) {
    var v = value
    zmq_setsockopt(socket, option, &v, 4)
  }
}

/// Frames a hostile client sends, built with peerd's own codec so that every other field is valid.
enum HostileFrames {
  static func control(_ kind: MessageKind, sender: Int, round: Int = 0, parameterCount: Int) -> [UInt8] {
    var h = WireHeader(kind: kind, sender: UInt32(sender))
    h.round = UInt64(round)
    h.degree = 2
    h.aux = 0x5EED
    h.parameterCount = UInt32(parameterCount)
    return WireCodec.encode(header: h, payload: [])
  }

  static func model(_ share: Share, sender: Int, round: Int) -> [UInt8] {
    var h = WireHeader(kind: .model, sender: UInt32(sender))
    h.encoding = PayloadEncoding(rawValue: share.encoding.rawValue)!
    h.round = UInt64(round)
    h.degree = 2
    h.parameterCount = UInt32(share.parameterCount)
    h.elementCount = UInt32(share.count)
    return WireCodec.encode(header: h, payload: ShareCodec.encode(share))
  }

  /// A dense model whose header promises every value but whose payload stops halfway.
  static func truncatedModel(sender: Int, round: Int, parameterCount: Int) -> [UInt8] {
    let whole = model(Share(dense: [Float](repeating: 0.5, count: parameterCount)), sender: sender, round: round)
    var cut = Array(whole[0..<(WireHeader.size + 2 * parameterCount)])
    // The header still claims the whole payload.
    cut[48..<56] = whole[48..<56]
    return cut
  }

  /// Bytes from a seeded generator (never starting with the magic).
  static func garbage(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      out[i] = UInt8(truncatingIfNeeded: state >> 33)
    }
    if !out.isEmpty && out[0] == 0x50 { out[0] = 0x51 }
    return out
  }
}
