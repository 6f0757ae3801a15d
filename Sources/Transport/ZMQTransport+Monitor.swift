import CZeroMQ

/// What ZeroMQ does to connections behind the node's back, made visible: a handshake refused
/// (a peer without CURVE, a bad key) is counted as a drop; a connection closed (a peer that
/// exited, an oversize message, a protocol error) is counted in `connectionsClosed`. ZeroMQ drops
/// an oversize message by closing its connection before a byte of it is buffered; without the
/// monitor that would happen with nothing said.
extension ZMQTransport {
  func startMonitor() throws {
    let endpoint = "inproc://peerd-monitor-\(localUID)-\(UInt(bitPattern: router))"
    let events =
      ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
      | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
    guard zmq_socket_monitor(router, endpoint, events) == 0, let pair = zmq_socket(context, ZMQ_PAIR) else {
      throw TransportError.socketFailed("monitor: \(Self.lastError())")
    }
    Self.set(pair, ZMQ_LINGER, Int32(0))
    guard zmq_connect(pair, endpoint) == 0 else {
      zmq_close(pair)
      throw TransportError.socketFailed("monitor connect: \(Self.lastError())")
    }
    monitor = pair
  }

  /// Counts every monitor event waiting.
  func readMonitorEvents() {
    guard let pair = monitor else { return }
    while let parts = Self.receiveMultipart(pair) {
      // [u16 event, u32 value] then the endpoint.
      guard let head = parts.first, head.count >= 2 else { continue }
      let event = UInt16(head[0]) | UInt16(head[1]) << 8
      switch Int32(event) {
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        drops["connection: refused by authentication", default: 0] += 1
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        drops["connection: handshake failed (another protocol or security mechanism)", default: 0] += 1
      case ZMQ_EVENT_DISCONNECTED:
        // Every peer that exits closes one too, so this is not a reject: it is reported apart.
        // Counted once the frames queued before it are read (`receive`), so that a peer's BYE,
        // which precedes its close, is always seen first.
        pendingCloses += 1
      default:
        break
      }
    }
  }
}
