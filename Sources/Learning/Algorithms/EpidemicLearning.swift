import Transport

/// Epidemic Learning, EL-Local (de Vos et al., NeurIPS 2023): each round, send to s nodes drawn
/// uniformly from the whole network, and average what arrived with equal weights.
///
/// Round r of node i: train; send the share to its s = `el_fanout` targets (drawn from every other
/// node, not only graph neighbours; connections open on demand); wait for the round-r models of
/// its *senders*; average x ← (xᵢ + Σ received)/(1 + |received|).
///
/// What to wait for: node j's targets for round r are drawn from a stream that depends only on
/// the run's seed, j and r (`scheduledPeers`), so node i computes its own senders for round r
/// without a message — decentralizepy's EL_Local instead sends a "not working" message to every
/// node that is not a target, n − 1 − s messages per node and round. A sender is awaited until
/// its round-r model is held, or it has announced a later round (it went on without this node),
/// or it was marked down. Every node exchanges heartbeats with every other (64-byte frames every
/// `peer_timeout`/3), so a dead sender is silent for everyone at once: it is awaited at most one
/// `peer_timeout` after it was last heard, then it is down and no longer awaited or sent to.
public final class EpidemicLearning: Algorithm {
  public let policy = RuntimePolicy(liveness: .whileAwaited, mailbox: .rounds(ahead: 2), peers: .everyone)
  let settings: AlgorithmSettings
  /// This round's targets, ascending.
  public private(set) var targets: [Int] = []

  public init(settings: AlgorithmSettings) { self.settings = settings }

  public func admits(model sender: Int, round: Int, context ctx: any AlgorithmContext) -> Bool {
    sender >= 0 && sender < ctx.peerCount && sender != ctx.uid
  }

  /// The nodes `node` sends to in `round`: the same answer on every node.
  public func targets(of node: Int, round: Int, _ ctx: any AlgorithmContext) -> [Int] {
    let others = (0..<ctx.peerCount).filter { $0 != node }
    return ctx.scheduledPeers(settings.fanout(nodes: ctx.peerCount), from: others, node: node, round: round).sorted()
  }

  /// The nodes that send to `node` in `round`.
  public func senders(to node: Int, round: Int, _ ctx: any AlgorithmContext) -> [Int] {
    (0..<ctx.peerCount).filter { $0 != node && targets(of: $0, round: round, ctx).contains(node) }
  }

  public func step(_ ctx: any AlgorithmContext) throws -> Bool {
    let r = max(ctx.round + 1, ctx.neighbourhoodRound())
    ctx.beginRound(r)
    let trainLoss = try ctx.train()
    targets = targets(of: ctx.uid, round: r, ctx)
    ctx.send(to: targets.filter(ctx.isLive))

    let senders = senders(to: ctx.uid, round: r, ctx)
    let outcome = try ctx.waitForPeers("round \(r) models") {
      senders.filter { !ctx.mailbox.has($0, round: r) && (ctx.announcedRound(of: $0) ?? 0) <= r }
    }
    if outcome == .stopping { return false }
    let received = ctx.mailbox.messages(round: r)
    let w = 1 / Double(received.count + 1)
    var weights: [Int: Double] = [:]
    for m in received { weights[m.sender] = w }
    ctx.average(received, weights: weights, selfWeight: w)
    try ctx.completeRound(trainLoss: trainLoss, mixedWith: received.map(\.sender))
    return r < ctx.iterations
  }

  /// A target that comes back mid-round may never have had this round's model.
  public func peerCameUp(_ peer: Int, context ctx: any AlgorithmContext) {
    guard targets.contains(peer) else { return }
    ctx.resendLast(to: peer)
  }
}
