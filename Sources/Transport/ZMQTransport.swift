import CZeroMQ
import Numerics

#if canImport(Glibc)
  import Glibc
#endif

/// The real transport: one ROUTER bound on this node's endpoint, one DEALER per peer it sends to.
///
/// A DEALER's routing identity is the sender's uid in decimal ASCII, so the receiving ROUTER
/// learns who sent each frame from the connection itself. DEALERs are opened on demand: the first
/// send to a uid of the address book connects to it (graph neighbours are connected at start, so
/// their TCP handshakes overlap with loading the data). Every send is non-blocking; each DEALER
/// holds at most `sendQueueLimit` messages, so a dead peer costs bounded memory and never blocks
/// the loop. `ZMQ_ROUTER_HANDOVER` lets a restarted peer reclaim its identity.
///
/// Not thread-safe: owned by the node loop's thread (DESIGN decision 2).
public final class ZMQTransport: MessageTransport {
  public let localUID: Int
  let context: UnsafeMutableRawPointer
  let router: UnsafeMutableRawPointer
  public let security: TransportSecurity
  /// The ZAP handler's REP socket (CURVE only) and the ROUTER's monitor.
  var zapHandler: UnsafeMutableRawPointer?
  var monitor: UnsafeMutableRawPointer?
  private var dealers: [Int: UnsafeMutableRawPointer] = [:]
  /// Where every node of the address book listens, by uid.
  private let addresses: [Int: String]
  private let message: UnsafeMutablePointer<zmq_msg_t>
  private let outgoing: UnsafeMutablePointer<zmq_msg_t>
  private var closed = false
  /// Messages dropped on receive because their framing or identity was wrong, connections
  /// refused or closed, by reason.
  public internal(set) var drops: [String: Int] = [:]
  /// Incoming connections ZeroMQ closed: peers that exited, oversize messages, protocol errors.
  public internal(set) var connectionsClosed = 0
  /// Closes reported by the monitor whose connection may still have frames queued.
  var pendingCloses = 0
  /// The endpoint actually bound (resolves a `*` port).
  public private(set) var boundEndpoint: String = ""

  public let sendQueueLimit: Int32
  public let closeLingerMilliseconds: Int32

  /// Binds `bindEndpoint` (e.g. `tcp://10.0.0.1:20003` or `tcp://127.0.0.1:*`), learns every
  /// node's endpoint from `addresses`, and connects at once to `connectNow`.
  public init(
    uid: Int, bindEndpoint: String, addresses: [Int: String] = [:], connectNow: [Int] = [],
    security: TransportSecurity = .plaintext, sendQueueLimit: Int32 = 16, maxMessageBytes: Int64 = 1 << 30,
    closeLingerMilliseconds: Int32 = 2000
  ) throws {
    localUID = uid
    self.addresses = addresses
    self.security = security
    self.sendQueueLimit = sendQueueLimit
    self.closeLingerMilliseconds = closeLingerMilliseconds
    guard let ctx = zmq_ctx_new() else { throw TransportError.socketFailed("zmq_ctx_new: \(Self.lastError())") }
    context = ctx
    guard let r = zmq_socket(ctx, ZMQ_ROUTER) else {
      zmq_ctx_term(ctx)
      throw TransportError.socketFailed("router: \(Self.lastError())")
    }
    router = r
    message = .allocate(capacity: 1)
    zmq_msg_init(message)
    outgoing = .allocate(capacity: 1)
    zmq_msg_init(outgoing)
    Self.set(r, ZMQ_LINGER, Int32(0))
    Self.set(r, ZMQ_ROUTER_HANDOVER, Int32(1))
    Self.set(r, ZMQ_RCVHWM, Int32(10_000))
    Self.set(r, ZMQ_MAXMSGSIZE, maxMessageBytes)
    do {
      if case .curve(let own, _) = security { try configureServer(own) }
      try startMonitor()
    } catch {
      close()
      throw error
    }
    let rc = zmq_bind(r, bindEndpoint)
    if rc != 0 {
      let reason = Self.lastError()
      close()  // every property is set, so deinit will run too; close() is idempotent
      throw TransportError.bindFailed(endpoint: bindEndpoint, reason: reason)
    }
    var buffer = [CChar](repeating: 0, count: 256)
    var size = buffer.count
    if zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 {
      boundEndpoint = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    for peer in connectNow.sorted() {
      guard let endpoint = addresses[peer] else { continue }
      try connect(to: peer, endpoint: endpoint)
    }
  }

  deinit { close() }

  /// Opens a DEALER to `uid` at `endpoint` (idempotent). Messages queue until the TCP connection
  /// is up, so a node may send to a peer that has not bound yet.
  public func connect(to uid: Int, endpoint: String) throws {
    guard dealers[uid] == nil else { return }
    guard let d = zmq_socket(context, ZMQ_DEALER) else {
      throw TransportError.socketFailed("dealer: \(Self.lastError())")
    }
    let identity = Array(String(localUID).utf8)
    _ = identity.withUnsafeBytes { zmq_setsockopt(d, ZMQ_ROUTING_ID, $0.baseAddress, $0.count) }
    Self.set(d, ZMQ_SNDHWM, sendQueueLimit)
    Self.set(d, ZMQ_LINGER, Int32(0))
    Self.set(d, ZMQ_RECONNECT_IVL, Int32(100))
    Self.set(d, ZMQ_RECONNECT_IVL_MAX, Int32(2000))
    Self.set(d, ZMQ_TCP_KEEPALIVE, Int32(1))
    Self.set(d, ZMQ_TCP_KEEPALIVE_IDLE, Int32(30))
    do {
      guard try configureClient(d, for: uid) else {
        zmq_close(d)
        throw TransportError.connectFailed(endpoint: endpoint, reason: "no CURVE public key listed for uid \(uid)")
      }
    } catch {
      zmq_close(d)
      throw error
    }
    if zmq_connect(d, endpoint) != 0 {
      let reason = Self.lastError()
      zmq_close(d)
      throw TransportError.connectFailed(endpoint: endpoint, reason: reason)
    }
    dealers[uid] = d
  }

  /// The DEALER to `uid`, opened now if the address book knows it.
  private func dealer(for uid: Int) -> UnsafeMutableRawPointer? {
    if let d = dealers[uid] { return d }
    guard let endpoint = addresses[uid], (try? connect(to: uid, endpoint: endpoint)) != nil else { return nil }
    return dealers[uid]
  }

  public func disconnect(_ uid: Int) {
    guard let d = dealers.removeValue(forKey: uid) else { return }
    zmq_close(d)
  }

  public var connectedPeers: [Int] { dealers.keys.sorted() }

  /// Frames at least this large are handed to ZeroMQ in place (`zmq_msg_init_data`, the frame
  /// retained until the I/O thread has written it); smaller ones are copied, which is cheaper
  /// than the bookkeeping.
  static let zeroCopyThreshold = 16 * 1024

  @discardableResult
  public func send(_ frame: SharedBytes, to uid: Int) -> Bool {
    guard !closed, let d = dealer(for: uid) else { return false }
    guard frame.count >= Self.zeroCopyThreshold else {
      return zmq_send(d, frame.base, frame.count, ZMQ_DONTWAIT) >= 0
    }
    let hint = Unmanaged.passRetained(frame).toOpaque()
    guard
      zmq_msg_init_data(outgoing, UnsafeMutableRawPointer(mutating: frame.base), frame.count, releaseFrame, hint) == 0
    else {
      Unmanaged<SharedBytes>.fromOpaque(hint).release()
      return false
    }
    if zmq_msg_send(outgoing, d, ZMQ_DONTWAIT) >= 0 { return true }
    zmq_msg_close(outgoing)  // not queued: this releases the frame through `releaseFrame`
    return false
  }

  public func receive(timeout: Double) throws(TransportError) -> InboundMessage? {
    guard !closed else { throw .closed }
    let deadline = Self.now() + max(0, timeout)
    while true {
      serveZAP()
      readMonitorEvents()
      if let m = tryReceive() { return m }
      // Nothing is queued: every frame that arrived before a reported close has been read.
      connectionsClosed += pendingCloses
      pendingCloses = 0
      let remaining = deadline - Self.now()
      if remaining <= 0 { return nil }
      var items = [zmq_pollitem_t(socket: router, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)]
      for s in [zapHandler, monitor].compactMap({ $0 }) {
        items.append(zmq_pollitem_t(socket: s, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0))
      }
      let ms = max(1, Int(remaining * 1000))
      let rc = zmq_poll(&items, Int32(items.count), ms)
      if rc < 0 && zmq_errno() == ETERM { throw .closed }
    }
  }

  /// Reads one whole multipart message if one is waiting: [identity, frame]. Anything else is
  /// drained and counted as dropped. The frame stays in the ZeroMQ message it arrived in (for a
  /// large message, the buffer ZeroMQ read the socket into), which the returned bytes own.
  private func tryReceive() -> InboundMessage? {
    while true {
      guard zmq_msg_recv(message, router, ZMQ_DONTWAIT) >= 0 else { return nil }
      let identity = [UInt8](UnsafeRawBufferPointer(start: zmq_msg_data(message), count: zmq_msg_size(message)))
      var frame: SharedBytes?
      var parts = 0
      var user: String?
      while zmq_msg_more(message) != 0 {
        let part = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        zmq_msg_init(part)
        guard zmq_msg_recv(part, router, ZMQ_DONTWAIT) >= 0 else {
          zmq_msg_close(part)
          part.deallocate()
          break
        }
        parts += 1
        let more = zmq_msg_more(part) != 0
        if security.isCurve { user = zmq_msg_gets(part, "User-Id").map { String(cString: $0) } }
        frame = Self.adopt(part)
        if !more { break }
      }
      if security.isCurve, parts == 1, let sender = Self.parseIdentity(identity), user != String(sender) {
        drops["security: frame under another uid than its key's", default: 0] += 1
        continue
      }
      guard parts == 1, let frame else {
        drops[parts == 0 ? "message without a frame after the identity" : "multi-part message", default: 0] += 1
        continue
      }
      guard let sender = Self.parseIdentity(identity) else {
        drops["routing identity that is not a uid", default: 0] += 1
        continue
      }
      return InboundMessage(sender: sender, frame: frame)
    }
  }

  /// Wraps a received message's bytes; closing the message is deferred to the last reference.
  static func adopt(_ message: UnsafeMutablePointer<zmq_msg_t>) -> SharedBytes {
    let address = UInt(bitPattern: message)
    let data = zmq_msg_data(message).map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(message)
    return SharedBytes(borrowing: data, count: zmq_msg_size(message)) {
      guard let message = UnsafeMutablePointer<zmq_msg_t>(bitPattern: address) else { return }
      zmq_msg_close(message)
      message.deallocate()
    }
  }

  /// A uid identity is 1–10 ASCII digits without leading zeros ("0", "17"), fitting in UInt32;
  /// anything else ("007", "-1", binary) is a stray connection. One spelling per uid means a
  /// second connection can never pass for the same peer.
  static func parseIdentity(_ bytes: [UInt8]) -> Int? {
    guard !bytes.isEmpty, bytes.count <= 10, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    guard bytes.count == 1 || bytes[0] != 0x30 else { return nil }
    let value = bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    return value <= Int(UInt32.max) ? value : nil
  }

  public func close() {
    guard !closed else { return }
    closed = true
    for s in [zapHandler, monitor].compactMap({ $0 }) { zmq_close(s) }
    zapHandler = nil
    monitor = nil
    // Give queued frames (the last model, BYE) a bounded time to leave, then release everything.
    for (_, d) in dealers {
      Self.set(d, ZMQ_LINGER, closeLingerMilliseconds)
      zmq_close(d)
    }
    dealers.removeAll()
    zmq_close(router)
    zmq_msg_close(message)
    message.deallocate()
    zmq_msg_close(outgoing)
    outgoing.deallocate()
    zmq_ctx_term(context)
  }

  static func set(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ value: Int32) {
    var v = value
    _ = zmq_setsockopt(socket, option, &v, MemoryLayout<Int32>.size)
  }

  static func set(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ value: Int64) {
    var v = value
    _ = zmq_setsockopt(socket, option, &v, MemoryLayout<Int64>.size)
  }

  static func lastError() -> String { String(cString: zmq_strerror(zmq_errno())) }

  static func now() -> Double { MonotonicClock.now() }
}

/// ZeroMQ's free callback for frames sent in place: drops the reference `send` took. Runs on
/// ZeroMQ's I/O thread once the bytes are written, or in `send` if the message was not queued.
private func releaseFrame(_ data: UnsafeMutableRawPointer?, _ hint: UnsafeMutableRawPointer?) {
  guard let hint else { return }
  Unmanaged<SharedBytes>.fromOpaque(hint).release()
}
