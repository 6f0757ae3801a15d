import Logging
import Numerics
import Sharing
import Transport

/// The node as its algorithm sees it: the narrow seam of DESIGN decision 2. Everything an
/// algorithm would otherwise copy (the dense fast path, the send loop, the aggregator, NaN
/// reports, optimizer resets, recording) is here, once.
extension Node: AlgorithmContext {
  public var role: NodeRole { plan.role }
  public var neighbours: [Int] { peers.neighbours }
  public var peerCount: Int { plan.peerCount }
  public var serverUID: Int? { plan.serverUID }
  public var iterations: Int { plan.iterations }
  public var settings: AlgorithmSettings { plan.algorithmSettings }
  public var round: Int { currentRound }
  public var sampleCount: Int { trainer.sampleCount }
  public var parameters: FloatBuffer { model.parameters }
  public var liveNeighbours: [Int] { peers.liveNeighbours }

  public func isLive(_ uid: Int) -> Bool { peers.isLive(uid) }

  public func announcedRound(of uid: Int) -> Int? {
    guard let p = peers.peer(uid), p.lastHeard != nil else { return nil }
    return p.round
  }

  public func beginRound(_ round: Int) {
    for p in unsent.keys.sorted() {
      log.warning(
        "could not queue the round \(currentRound) model for \(p) before the round ended (its queue stayed full)")
      sharing.shareUndelivered(to: p)
    }
    unsent.removeAll()
    currentRound = round
    if case .rounds = mailbox.mode { mailbox.discard(below: round) }
    phase.reset(at: now)
  }

  public func train() throws -> Double? {
    let t0 = now
    defer { phase.add(.train, now - t0) }
    privacy?.noteTraining()
    return try trainer.train(model: model, optimizer: optimizer, clock: clock) { [unowned self] in
      try serviceNetwork()
    }
  }

  public func choosePeers(_ count: Int, from candidates: [Int]) -> [Int] {
    let n = min(count, candidates.count)
    guard n > 0 else { return [] }
    return peerChoice.sample(n, from: candidates.count).map { candidates[$0] }
  }

  @discardableResult
  public func send(to recipients: [Int], age: UInt64, aux: UInt64) -> [Int] {
    let t0 = now
    defer { phase.add(.communicate, now - t0) }
    guard !recipients.isEmpty else { return [] }
    for p in recipients where !peers.contains(p) { peers.track(p) }
    let fields = PeerLink.ModelFields(round: currentRound, degree: peers.liveNeighbours.count, age: age, aux: aux)
    let groups = frames(for: recipients, fields)
    var byRecipient: [Int: PeerLink.EncodedModel] = [:]
    for (frame, group) in groups { for p in group { byRecipient[p] = frame } }
    lastSent = (currentRound, sharing.sharesDependOnRecipient ? nil : groups.first?.frame, fields)
    var sent: [Int] = []
    for p in recipients {
      guard let frame = byRecipient[p] else { continue }
      if link.send(frame, to: p) {
        sent.append(p)
      } else {
        // Its queue is full (a peer still starting, or not reading): try again while serving
        // the network, for as long as this round lasts.
        unsent[p] = frame
        log.debug("round \(currentRound) model for \(p) not queued yet; will retry")
      }
    }
    return sent
  }

  /// This node's current model framed for `recipients`: the parameter bytes themselves for full
  /// sharing (one copy), else each of the sharing method's shares framed once for its group.
  func frames(for recipients: [Int], _ fields: PeerLink.ModelFields) -> [(
    frame: PeerLink.EncodedModel, recipients: [Int]
  )] {
    // Every path that frames the model (a send, a resend framed for one peer) releases first.
    releaseForSharing()
    let shared = sharedParameters()
    if sharing.sharesWholeModel { return [(link.encodeDenseModel(shared, fields), recipients)] }
    return sharing.makeShares(of: shared, round: currentRound, recipients: recipients).map {
      (link.encodeModel($0.share, fields), $0.recipients)
    }
  }

  /// Retries the sends of this round's model that could not be queued.
  func retryUnsent() {
    for (p, frame) in unsent.sorted(by: { $0.key < $1.key }) {
      if !peers.isLive(p) {
        unsent[p] = nil
        // The share never reached it: a method that tracks what each peer holds starts over.
        sharing.shareUndelivered(to: p)
      } else if link.send(frame, to: p) {
        unsent[p] = nil
        log.debug("round \(currentRound) model for \(p) queued on retry")
      }
    }
  }

  public func resendLast(to peer: Int) {
    guard let last = lastSent, last.round == currentRound else { return }
    let t0 = now
    defer { phase.add(.communicate, now - t0) }
    // A method whose shares depend on the recipient (CHOCO) makes one for this peer alone, from
    // what it holds of this node now: a delta if it is in step, a keyframe after a restart.
    // Sent after the earlier frames on the same queue, it applies after them.
    guard let frame = last.frame ?? frames(for: [peer], last.fields).first?.frame else { return }
    if !link.send(frame, to: peer) { sharing.shareUndelivered(to: peer) }
  }

  public func wait(
    for what: String, deadline: Double?, awaiting: () -> [Int], until done: () -> Bool
  ) throws -> WaitOutcome {
    let t0 = now
    defer { phase.add(.communicate, now - t0) }
    return try waitImpl(for: what, deadline: deadline, awaiting: awaiting, until: done)
  }

  public func stopRun() {
    guard !stopReceived else { return }
    stopReceived = true
    log.info("round \(currentRound): this node ends the run (STOP to every peer)")
    forwardStop()
  }

  public func average(_ messages: [ModelMessage], weights: [Int: Double], selfWeight: Double) {
    let t0 = now
    defer { phase.add(.average, now - t0) }
    let report = sharing.average(
      own: model.parameters, selfWeight: selfWeight,
      received: messages.map { ($0.sender, $0.share, weights[$0.sender] ?? 0) }, using: aggregator)
    rebasePrivacy()
    for m in messages {
      guard let ignored = report.ignoredValues[m.sender], ignored > 0 else { continue }
      link.recordRejection(.nonFiniteValues, count: ignored)
      warnOnce(
        m.sender, .nonFiniteValues,
        "ignored \(ignored) NaN or infinite values in the round \(m.round) model from \(m.sender)")
    }
    if plan.resetOptimizer { optimizer.reset() }
  }

  public func count(_ name: String, by amount: Int) {
    results.update { $0.counters[name, default: 0] += amount }
  }
}
