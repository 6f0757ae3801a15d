import CZeroMQ
import Numerics

/// CURVE on the sockets, and the ZAP handler that admits connections.
///
/// The ROUTER is a CURVE server; every DEALER is a CURVE client that knows the server key of the
/// peer it connects to. When a client connects, libzmq asks the ZAP handler (ZeroMQ RFC 27) on
/// `inproc://zeromq.zap.01`, which this transport serves from its own loop: the connection is
/// admitted only if the client's key is in the listed public keys, and it is given that key's
/// uid as its User-Id. Every message then carries the User-Id, and a message whose routing
/// identity is not its User-Id is dropped: a frame can only arrive under the uid its key owns, so
/// a forged BYE or model for another uid cannot be sent, and a process without a listed key gets
/// no frame in. (ZAP requests do not carry the client's routing identity, so the match is made
/// per message.) With CURVE the ROUTER refuses a second connection under an identity in use
/// instead of handing it over, so a listed peer cannot even disturb another's connection.
extension ZMQTransport {
  /// The ZAP endpoint libzmq asks; one handler per context.
  static let zapEndpoint = "inproc://zeromq.zap.01"
  static let zapDomain = "peerd"

  /// Makes the ROUTER a CURVE server and binds the ZAP handler (before the ROUTER binds).
  func configureServer(_ own: CurveKeyPair) throws {
    guard let zap = zmq_socket(context, ZMQ_REP) else { throw TransportError.socketFailed("zap: \(Self.lastError())") }
    Self.set(zap, ZMQ_LINGER, Int32(0))
    guard zmq_bind(zap, Self.zapEndpoint) == 0 else {
      zmq_close(zap)
      throw TransportError.socketFailed("zap bind: \(Self.lastError())")
    }
    zapHandler = zap
    Self.set(router, ZMQ_ROUTER_HANDOVER, Int32(0))
    Self.set(router, ZMQ_CURVE_SERVER, Int32(1))
    try Self.setKey(router, ZMQ_CURVE_SECRETKEY, own.secretKey)
    _ = Self.zapDomain.withCString { zmq_setsockopt(router, ZMQ_ZAP_DOMAIN, $0, Self.zapDomain.utf8.count) }
  }

  /// Makes a DEALER a CURVE client of `uid`; false when `uid` has no listed public key.
  func configureClient(_ dealer: UnsafeMutableRawPointer, for uid: Int) throws -> Bool {
    guard case .curve(let own, let peers) = security else { return true }
    guard let serverKey = peers[uid] else { return false }
    try Self.setKey(dealer, ZMQ_CURVE_SERVERKEY, serverKey)
    try Self.setKey(dealer, ZMQ_CURVE_PUBLICKEY, own.publicKey)
    try Self.setKey(dealer, ZMQ_CURVE_SECRETKEY, own.secretKey)
    return true
  }

  static func setKey(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ z85: String) throws {
    guard Z85.decode(z85) != nil else { throw TransportError.socketFailed("not a Z85 CURVE key: '\(z85.prefix(8))…'") }
    let rc = z85.withCString { zmq_setsockopt(socket, option, $0, 41) }
    guard rc == 0 else { throw TransportError.socketFailed("CURVE key option: \(lastError())") }
  }

  /// Answers every waiting ZAP request.
  func serveZAP() {
    guard let zap = zapHandler, case .curve(_, let peers) = security else { return }
    while true {
      guard let frames = Self.receiveMultipart(zap) else { return }
      // version, request id, domain, address, the server's own identity, mechanism, client key.
      guard frames.count >= 7 else {
        drops["security: malformed ZAP request", default: 0] += 1
        reply(zap, id: frames.count > 1 ? frames[1] : [], status: "500", text: "malformed request", user: "")
        continue
      }
      let mechanism = String(decoding: frames[5], as: UTF8.self)
      let key = frames[6]
      let owner = peers.first { Z85.decode($0.value) == key }?.key
      if mechanism != "CURVE" {
        drops["security: connection without CURVE", default: 0] += 1
        reply(zap, id: frames[1], status: "400", text: "CURVE required", user: "")
      } else if let owner {
        reply(zap, id: frames[1], status: "200", text: "OK", user: String(owner))
      } else {
        drops["security: unknown CURVE key", default: 0] += 1
        reply(zap, id: frames[1], status: "400", text: "key not listed", user: "")
      }
    }
  }

  /// Every part of one waiting message, or nil when none waits. The message lives at one
  /// allocated address for its whole life, as libzmq requires.
  static func receiveMultipart(_ socket: UnsafeMutableRawPointer) -> [[UInt8]]? {
    let part = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
    defer { part.deallocate() }
    var frames: [[UInt8]] = []
    while true {
      zmq_msg_init(part)
      guard zmq_msg_recv(part, socket, ZMQ_DONTWAIT) >= 0 else {
        zmq_msg_close(part)
        return frames.isEmpty ? nil : frames
      }
      frames.append([UInt8](UnsafeRawBufferPointer(start: zmq_msg_data(part), count: zmq_msg_size(part))))
      let more = zmq_msg_more(part) != 0
      zmq_msg_close(part)
      if !more { return frames }
    }
  }

  private func reply(_ zap: UnsafeMutableRawPointer, id: [UInt8], status: String, text: String, user: String) {
    let parts: [[UInt8]] = [Array("1.0".utf8), id, Array(status.utf8), Array(text.utf8), Array(user.utf8), []]
    for (i, part) in parts.enumerated() {
      _ = part.withUnsafeBytes { zmq_send(zap, $0.baseAddress, $0.count, i < parts.count - 1 ? ZMQ_SNDMORE : 0) }
    }
  }
}
