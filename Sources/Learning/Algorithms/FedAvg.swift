import Transport

/// Federated Averaging (seeds 000, 003, 004), the baseline: one server and its clients.
///
/// Server, round r: sample k clients among those not known to be down (k = `clients_per_round`,
/// or ⌈n × `client_fraction`⌉), with the seeded peer-choice stream; send them the global model;
/// wait for their models until `round_deadline` (a sampled client that dies is marked down after
/// `peer_timeout` and no longer awaited); a client missing at the deadline is left out of the
/// round, logged and counted (`fedavg_clients_left_out`). The new global model is the mean of the
/// returned models weighted by the sample counts they carry in the header's `aux`. The server
/// evaluates it (it alone has results with test accuracy); after `iterations` rounds it ends the
/// run with STOP.
///
/// Client: wait for a global model from the server; load it, train the configured local steps,
/// return the model with this node's sample count. Clients take models only from the server,
/// the server only from this round's sampled clients. A client whose server stays down for
/// 2 × `round_deadline` gives up the run (exit 5); one whose server said BYE is done.
///
/// The server is uid n (the graph's node count), graph-free, on machine 0 at base_port + n
/// (NodePlan+Roles.swift); the clients are the graph's nodes, with their usual shards.
public final class FedAvg: Algorithm {
  /// Admission already bounds the rounds (the server takes only this round's sampled clients, a
  /// client only the server), and a client may go unsampled for any number of rounds, so the
  /// mailbox needs no look-ahead bound beyond its byte budget.
  public let policy = RuntimePolicy(
    liveness: .always, mailbox: .rounds(ahead: Int(Int32.max)), peers: .serverAndClients)
  let settings: AlgorithmSettings
  /// Server: the clients sampled for `sampledRound`, ascending.
  public private(set) var sampled: [Int] = []
  public private(set) var sampledRound = 0

  public init(settings: AlgorithmSettings) { self.settings = settings }

  public func admits(model sender: Int, round: Int, context ctx: any AlgorithmContext) -> Bool {
    guard ctx.role == .server else { return sender == ctx.serverUID }
    guard sender >= 0 && sender < ctx.peerCount else { return false }
    // Returns of earlier rounds are admitted so that the mailbox drops them as stale.
    return round < sampledRound || (round == sampledRound && sampled.contains(sender))
  }

  public func step(_ ctx: any AlgorithmContext) throws -> Bool {
    ctx.role == .server ? try serverRound(ctx) : try clientRound(ctx)
  }

  func serverRound(_ ctx: any AlgorithmContext) throws -> Bool {
    let r = ctx.round + 1
    ctx.beginRound(r)
    let clients = (0..<ctx.peerCount).filter(ctx.isLive)
    sampled = ctx.choosePeers(settings.clientsPerRound(of: ctx.peerCount), from: clients).sorted()
    sampledRound = r
    ctx.send(to: sampled)
    let outcome = try ctx.waitForPeers("round \(r) client models", deadline: ctx.now + settings.roundDeadline) {
      sampled.filter { !ctx.mailbox.has($0, round: r) }
    }
    if outcome == .stopping { return false }
    let returned = ctx.mailbox.messages(round: r)
    let missing = sampled.filter { m in !returned.contains { $0.sender == m } }
    if !missing.isEmpty {
      ctx.count("fedavg_clients_left_out", by: missing.count)
      ctx.log.warning("round \(r): clients \(missing) left out (no usable model within the round)")
    }
    let total = returned.reduce(0.0) { $0 + Double($1.aux) }
    if total > 0 {
      var weights: [Int: Double] = [:]
      for m in returned { weights[m.sender] = Double(m.aux) / total }
      ctx.average(returned, weights: weights, selfWeight: 0)
    } else {
      ctx.count("fedavg_rounds_without_clients")
    }
    try ctx.completeRound(trainLoss: nil, mixedWith: returned.map(\.sender))
    if r >= ctx.iterations {
      ctx.stopRun()
      return false
    }
    return true
  }

  func clientRound(_ ctx: any AlgorithmContext) throws -> Bool {
    guard let server = ctx.serverUID else { throw AlgorithmError.misconfigured("a FedAvg client needs a server") }
    let last = ctx.round
    func next() -> Int? { ctx.mailbox.heldRounds.last { $0 > last } }
    var outcome = try ctx.wait(for: "the server's model", deadline: nil, awaiting: { [server] }) {
      next() != nil || !ctx.isLive(server)
    }
    if outcome == .stopping { return false }
    guard let r = next() else {
      if ctx.peerState(server) == .departed { return false }
      let grace = 2 * settings.roundDeadline
      outcome = try ctx.wait(for: "the server to come back", deadline: ctx.now + grace, awaiting: { [] }) {
        next() != nil || ctx.isLive(server)
      }
      if outcome == .stopping { return false }
      if outcome == .deadline {
        ctx.count("fedavg_server_lost")
        ctx.abandonRun("the server (uid \(server)) was down for \(grace) s")
        return false
      }
      return true
    }
    ctx.beginRound(r)
    let global = ctx.mailbox.messages(round: r).filter { $0.sender == server }
    ctx.average(global, weights: [server: 1], selfWeight: 0)
    let trainLoss = try ctx.train()
    ctx.send(to: [server], age: 0, aux: UInt64(ctx.sampleCount))
    try ctx.completeRound(trainLoss: trainLoss, mixedWith: [server])
    return true
  }

  /// A sampled client that comes back mid-round may never have had this round's global model.
  public func peerCameUp(_ peer: Int, context ctx: any AlgorithmContext) {
    guard ctx.role == .server, ctx.round == sampledRound, sampled.contains(peer) else { return }
    ctx.resendLast(to: peer)
  }
}
