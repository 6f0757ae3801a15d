import Transport

/// Rejects the transport cannot name: connections closed under the node that no BYE explains.
extension Node {
  /// Every reject so far, with the closed connections no BYE explains.
  ///
  /// libzmq 4.3 reports that an incoming connection closed, never why: an oversize or
  /// undecodable message (ZeroMQ drops the connection), a stranger hanging up and a peer that
  /// exited all look the same. A peer that leaves says BYE first (its BYE is read before its
  /// close), so the closes beyond the BYEs received are the ones to count.
  func rejectedFrames() -> [String: Int] {
    var rejected = link.allRejected
    let unexplained = link.transport.connectionsClosed - byesReceived
    if unexplained > 0 { rejected[Self.closedWithoutBye] = unexplained }
    return rejected
  }

  static let closedWithoutBye = "transport: connection closed without a BYE"

  /// Logs the first unexplained close at warning level.
  func noteClosedConnections() {
    guard !warnedClose, link.transport.connectionsClosed > byesReceived else { return }
    warnedClose = true
    log.warning(
      "an incoming connection closed without a BYE: an oversize or undecodable message (ZeroMQ drops such a connection), a stranger, or a peer that died (counted as '\(Self.closedWithoutBye)'; further ones are not logged)"
    )
  }
}
