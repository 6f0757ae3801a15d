import Logging
import Numerics
import Transport

/// The network side of the loop: receiving and dispatching frames, admission, liveness
/// (heartbeats, probes, marking down and back up) and the one wait primitive.
extension Node {
  /// Waits, dispatching frames, until `done()` holds, the deadline passes, or a stop is requested.
  /// Peers in `awaiting()` that are live and silent past `peer_timeout` are marked down.
  func waitImpl(
    for what: String, deadline: Double?, awaiting: () -> [Int], until done: () -> Bool
  ) throws -> WaitOutcome {
    let started = now
    while true {
      try drain()
      if done() { return .satisfied }
      if isStopping { return .stopping }
      let t = now
      for p in awaiting() where peers.isLive(p) && peers.isOverdue(p, now: t, awaitedSince: started) {
        let silence = String(format: "%.1f", peers.silence(of: p, now: t))
        markDown(p, reason: "silent for \(silence) s while waiting for \(what)")
      }
      if done() { return .satisfied }
      if let deadline, t >= deadline { return .deadline }
      service()
      var timeout = min(0.05, max(0.001, nextHeartbeat - t))
      if let deadline { timeout = min(timeout, max(0.001, deadline - t)) }
      try pump(timeout: timeout)
    }
  }

  /// Handles every frame already waiting, then sends what is due: called between training
  /// batches and evaluation batches, so a long epoch neither starves peers nor looks dead.
  func serviceNetwork() throws {
    try drain()
    service()
  }

  /// Dispatches the frames waiting, at most `drainLimit` of them: a peer (or a stranger) that
  /// sends faster than this node decodes must not keep it from its own work. A flood of stranger
  /// HELLOs once held a node here for as long as it lasted: no heartbeat went out, and its
  /// neighbours marked it down. The rest waits for the next call; ZeroMQ's fair queueing still
  /// hands over every peer's frames in turn.
  func drain() throws {
    var handled = 0
    while handled < Self.drainLimit, try pump(timeout: 0) { handled += 1 }
  }

  /// Receives and dispatches at most one frame. Returns whether one arrived.
  @discardableResult
  func pump(timeout: Double) throws -> Bool {
    guard let event = try link.receive(timeout: timeout) else { return false }
    dispatch(event)
    return true
  }

  private func dispatch(_ event: InboundEvent) {
    switch event {
    case .control(let c): handle(c)
    case .model(let m): handle(m)
    case .unusableModel(let sender, let round, let reason):
      guard admitsModel(from: sender, round: round) else { return }
      heard(sender, round: round, degree: nil, via: "model")
      mailbox.markUnusable(sender: sender, round: round)
      warnOnce(sender, reason, "round \(round) model from \(sender) rejected: \(reason)")
    case .dropped(let sender, let reason):
      warnOnce(sender, reason, "frame from identity \(sender) dropped: \(reason)")
    }
  }

  private func handle(_ c: ControlMessage) {
    guard dealsWith(c.sender) else {
      reject(c.sender, .unexpectedControl(c.kind), "\(c.kind) from \(c.sender), a uid this node does not deal with")
      return
    }
    // A new incarnation is a restart: whatever this node held for that peer (buffered models,
    // compression state) belongs to its previous life, and it must be sent this round's model.
    let restarted = peers.noteIncarnation(c.incarnation, of: c.sender)
    if restarted {
      log.info("peer \(c.sender) restarted (new incarnation, its round \(c.round))")
      peerRestarted(c.sender)
    }
    switch c.kind {
    case .hello:
      heard(c.sender, round: c.round, degree: c.degree, via: c.isProbe ? "probe" : "HELLO", forceCameUp: restarted)
      link.sendControl(.helloAck, to: c.sender, round: currentRound, degree: peers.liveNeighbours.count)
    case .helloAck, .heartbeat:
      heard(
        c.sender, round: c.round, degree: c.degree, via: c.kind == .heartbeat ? "heartbeat" : "HELLO_ACK",
        forceCameUp: restarted)
    case .bye:
      guard peers.state(of: c.sender) != .departed else { return }
      byesReceived += 1
      peers.markDeparted(c.sender)
      log.info("peer \(c.sender) said BYE in its round \(c.round)")
      // A peer that completed the run says BYE too; only one leaving before the end is an event
      // of the run. Whether a finished neighbour's BYE lands before this node exits is a matter
      // of scheduling, and two runs with the same seed would differ by it.
      if c.round < plan.iterations {
        recordPeerEvent(.departed, c.sender, "BYE")
      } else if c.round == currentRound && algorithm.policy.liveness == .whileAwaited {
        finishedPeers[c.sender] = c.round
      }
    case .stop:
      guard !stopReceived else { return }
      log.info("STOP from \(c.sender) (its round \(c.round)): the run is over")
      stopReceived = true
      forwardStop()
    case .model:
      break
    }
  }

  private func handle(_ received: ModelMessage) {
    guard admitsModel(from: received.sender, round: received.round) else { return }
    link.recordReceived(received)
    var m = received
    do {
      // The sharing method turns what arrived into what is averaged (CHOCO checks it against
      // its copy of the sender); a share it refuses is heard, not averaged.
      m.share = try sharing.receive(received.share, from: received.sender)
    } catch {
      heard(m.sender, round: m.round, degree: m.degree, via: "model")
      mailbox.markUnusable(sender: m.sender, round: m.round)
      reject(m.sender, .refusedShare(error), "round \(m.round) model from \(m.sender) refused: \(error)")
      return
    }
    // The look-ahead window follows the furthest peer heard: a node coming back must be able to
    // buffer the round it is about to join. The byte limit still caps what a liar can make it hold.
    if case .rounds = mailbox.mode { mailbox.reference = max(mailbox.reference, furthestPeerRound()) }
    switch mailbox.offer(m) {
    case .kept, .replaced:
      heard(m.sender, round: m.round, degree: m.degree, via: "model")
    case .stale:
      heard(m.sender, round: m.round, degree: m.degree, via: "model")
      link.recordRejection(.staleRound)
      log.debug("stale round \(m.round) model from \(m.sender) (now \(currentRound))")
    case .beyondBound:
      // No honest peer sends a model this far ahead, so it says nothing about where the sender is.
      // Before the first round it is usually one queued for this uid while it was dead: counted only.
      if currentRound == 0 {
        link.recordRejection(.beyondBufferBound)
      } else {
        reject(m.sender, .beyondBufferBound, "round \(m.round) model from \(m.sender) is beyond the buffering bound")
      }
    }
  }

  /// Admission: a model is used only from a uid the algorithm allows (a graph neighbour for
  /// D-PSGD; any node for EL; the server or a sampled client for FedAvg).
  func admitsModel(from sender: Int, round: Int) -> Bool {
    if algorithm.admits(model: sender, round: round, context: self) { return true }
    reject(sender, .notAdmitted, "model from \(sender), which this node does not take models from (\(plan.algorithm))")
    return false
  }

  /// Whether control frames from `uid` concern this node.
  func dealsWith(_ uid: Int) -> Bool {
    if peers.contains(uid) { return true }
    switch algorithm.policy.peers {
    case .neighbours: return false
    case .everyone: return uid >= 0 && uid < plan.peerCount && uid != self.uid
    case .serverAndClients:
      return plan.role == .server ? (uid >= 0 && uid < plan.peerCount) : uid == plan.serverUID
    }
  }

  /// Any valid frame from `uid`: it is alive. A peer that comes up (first contact, back from
  /// down or departed, or restarted) is announced to the algorithm.
  func heard(_ uid: Int, round: Int, degree: Int?, via: String, forceCameUp: Bool = false) {
    let previous = peers.state(of: uid)
    let cameUp = peers.heard(uid, at: now, round: round, degree: degree ?? peers.peer(uid)?.degree ?? 0)
    guard cameUp || forceCameUp else { return }
    if previous == .down || previous == .departed {
      // Nothing was sent to it while it was down, so what the sharing method keeps of it still
      // holds (a restart comes with a HELLO, and resets it).
      log.info("peer \(uid) is back (\(via), its round \(round))")
      recordPeerEvent(.up, uid, via)
    }
    algorithm.peerCameUp(uid, context: self)
  }

  func peerRestarted(_ uid: Int) {
    if mailbox.mode == .latestPerSender { mailbox.forget(uid) }
    sharing.peerReset(uid)
  }

  func markDown(_ uid: Int, reason: String) {
    guard peers.isLive(uid) else { return }
    peers.markDown(uid, at: now)
    log.warning("peer \(uid) marked down: \(reason)")
    recordPeerEvent(.down, uid, reason)
  }

  func recordPeerEvent(_ kind: PeerEvent.Kind, _ peer: Int, _ reason: String) {
    results.update {
      $0.peerEvents.append(PeerEvent(kind: kind, peer: peer, round: currentRound, time: elapsed, reason: reason))
    }
    guard kind != .departed else { return }
    var e = NodeEvent(kind: kind == .down ? .peerDown : .peerUp, uid: uid, time: elapsed, round: currentRound)
    e.peer = peer
    e.reason = reason
    events.append(e)
  }

  /// Counts a reject, and logs the first of each kind per peer at warning level.
  func reject(_ peer: Int, _ reason: RejectReason, _ message: String) {
    link.recordRejection(reason)
    warnOnce(peer, reason, message)
  }

  func warnOnce(_ peer: Int, _ reason: RejectReason, _ message: String) {
    guard warned.insert("\(peer) \(reason.key)").inserted else { return }
    log.warning("\(message) (counted; further ones from this peer are not logged)")
    var e = NodeEvent(kind: .rejected, uid: uid, time: elapsed, round: currentRound)
    e.peer = peer
    e.reason = reason.key
    events.append(e)
  }

  /// Heartbeats, probes of down peers, silence checks that do not wait for a wait, and the stop
  /// signal.
  func service() {
    if stopSignal == nil, let signal = StopSignal.pending {
      stopSignal = signal
      log.warning("signal \(signal): stopping after this step")
    }
    let t = now
    if t >= nextHeartbeat {
      nextHeartbeat = t + plan.peerTimeout / 3
      for p in peers.heartbeatPeers where peers.state(of: p) == .up {
        link.sendControl(.heartbeat, to: p, round: currentRound, degree: peers.liveNeighbours.count)
      }
    }
    for p in peers.probesDue(now: t) { sayHello(to: p, probe: true) }
    noteClosedConnections()
    if !unsent.isEmpty { retryUnsent() }
    if algorithm.policy.liveness == .always {
      for p in peers.heartbeatPeers where peers.isLive(p) && peers.isOverdue(p, now: t, awaitedSince: peers.startTime) {
        markDown(p, reason: "silent for \(String(format: "%.1f", peers.silence(of: p, now: t))) s")
      }
    }
  }

  func sayHello(to peer: Int, probe: Bool) {
    link.sendControl(
      .hello, to: peer, round: currentRound, degree: peers.liveNeighbours.count,
      flags: probe ? ControlMessage.probeFlag : 0)
  }

  func forwardStop() {
    for p in peers.tracked where peers.state(of: p) != .departed {
      link.sendControl(.stop, to: p, round: currentRound, degree: 0)
    }
  }

  /// The highest round any up heartbeat peer announced.
  func furthestPeerRound() -> Int {
    peers.heartbeatPeers.compactMap { peers.state(of: $0) == .up ? peers.peer($0)?.round : nil }.max() ?? 0
  }

  /// The highest round that a majority of the up heartbeat peers have announced: a single peer
  /// announcing a wild round cannot move this node.
  public func neighbourhoodRound() -> Int {
    let rounds = peers.heartbeatPeers.compactMap { p -> Int? in
      guard peers.state(of: p) == .up else { return nil }
      return peers.peer(p)?.round
    }.sorted(by: >)
    guard !rounds.isEmpty else { return 0 }
    return rounds[rounds.count / 2]
  }
}
