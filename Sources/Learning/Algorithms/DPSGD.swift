import Topology
import Transport

/// Decentralized parallel SGD with Metropolis–Hastings mixing (seed 001, §3.2.1).
///
/// Each round r: train locally; send the share to every live neighbour with this node's live
/// degree; wait until every live neighbour's round-r model is held (or that neighbour is known to
/// be past round r, or is marked down); average with w_ij = 1/(1+max(d_i, d_j)) and
/// w_ii = 1 − Σ w_ij over the neighbours whose model arrived. The round after r is r+1, or the
/// round the neighbourhood is in when this node fell behind (a restart, a long stop): it joins
/// them rather than making them wait for rounds it missed.
public final class DPSGD: Algorithm {
  public let policy = RuntimePolicy(liveness: .whileAwaited, mailbox: .rounds(ahead: 2))

  public init() {}

  public func step(_ ctx: any AlgorithmContext) throws -> Bool {
    let r = max(ctx.round + 1, ctx.neighbourhoodRound())
    ctx.beginRound(r)
    let trainLoss = try ctx.train()
    ctx.send(to: ctx.liveNeighbours)

    // A neighbour is awaited until its round-r model is held, or it has announced a later round
    // (it went on without this node and will never send round r).
    let outcome = try ctx.waitForPeers("round \(r) models") {
      ctx.neighbours.filter { !ctx.mailbox.has($0, round: r) && (ctx.announcedRound(of: $0) ?? 0) <= r }
    }
    if outcome == .stopping { return false }

    // Average over every neighbour whose share for this round arrived, in uid order. This
    // round's degree is the number that took part: a neighbour that delivered and then left
    // (BYE after its last round) still counts, so the weights never depend on whether a BYE
    // happened to arrive before this line.
    let received = ctx.mailbox.messages(round: r)
    var degrees: [Int: Int] = [:]
    for m in received { degrees[m.sender] = m.degree }
    let w = MixingWeights.metropolisHastings(node: ctx.uid, degree: received.count, neighbourDegrees: degrees)
    ctx.average(received, weights: w.weights, selfWeight: w.selfWeight)
    try ctx.completeRound(trainLoss: trainLoss, mixedWith: received.map(\.sender))
    return r < ctx.iterations
  }

  /// A neighbour that comes back mid-round may never have had this round's model: send it again.
  public func peerCameUp(_ peer: Int, context ctx: any AlgorithmContext) {
    guard ctx.neighbours.contains(peer) else { return }
    ctx.resendLast(to: peer)
  }
}
