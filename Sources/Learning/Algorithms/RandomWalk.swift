import Transport

/// The Random Walk Model (seed 001, §3.2.2): models walk the graph, one hop per iteration.
///
/// Iteration r of a node: train (its age grows by one); send the model and its age to ONE live
/// neighbour drawn uniformly with the seeded peer-choice stream; wait for a walker (a neighbour's
/// model, first in, first out); on receipt average the two weighted by age,
/// x ← (aᵢ·xᵢ + aⱼ·xⱼ)/(aᵢ + aⱼ), then aᵢ ← max(aᵢ, aⱼ). Only then is the iteration complete: a
/// node advances only when it receives. Every receipt yields one send, so the n models the nodes
/// send first keep walking, conserved. A walker lost with a dead node would starve someone for
/// ever, so a node that has waited `rwm_timeout` completes the iteration unmixed (logged,
/// counted as `rwm_reinjections`) and its next send is a new walker. The first node to complete
/// `iterations` ends the run for everyone with STOP; every node records its own count.
///
/// Waiting nodes are silent by design, so nothing awaits a particular peer: liveness is
/// `.always` (a neighbour silent for `peer_timeout` is marked down and sent no walkers).
public final class RandomWalk: Algorithm {
  public let policy = RuntimePolicy(liveness: .always, mailbox: .queue)
  let timeout: Double
  /// Iterations of training behind this model: its own, or the walker's it absorbed if older.
  public private(set) var age: UInt64 = 0

  public init(settings: AlgorithmSettings) { timeout = settings.rwmTimeout }

  public func step(_ ctx: any AlgorithmContext) throws -> Bool {
    let r = ctx.round + 1
    ctx.beginRound(r)
    let trainLoss = try ctx.train()
    age += 1
    ctx.send(to: ctx.choosePeers(1, from: ctx.liveNeighbours), age: age, aux: 0)

    let outcome = try ctx.wait(for: "a walker", deadline: ctx.now + timeout, awaiting: { [] }) {
      ctx.mailbox.queued > 0
    }
    if outcome == .stopping { return false }
    var mixed: [Int] = []
    if let walker = ctx.mailbox.take() {
      let total = Double(age) + Double(walker.age)
      let own = total > 0 ? Double(age) / total : 0.5
      ctx.recordAges(own: Double(age), mixed: [walker.sender: Double(walker.age)])
      ctx.average([walker], weights: [walker.sender: 1 - own], selfWeight: own)
      age = max(age, walker.age)
      mixed = [walker.sender]
    } else {
      ctx.count("rwm_reinjections")
      ctx.log.warning("iteration \(r): no walker arrived within \(timeout) s; training and sending anyway")
    }
    try ctx.completeRound(trainLoss: trainLoss, mixedWith: mixed)
    if r >= ctx.iterations {
      ctx.stopRun()
      return false
    }
    return true
  }

  public func checkpointState() throws -> [UInt8] { withUnsafeBytes(of: age.littleEndian) { Array($0) } }

  public func restoreState(_ bytes: [UInt8]) throws {
    guard bytes.count == 8 else { throw AlgorithmError.badCheckpointState("RWM keeps 8 bytes, got \(bytes.count)") }
    age = bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
  }
}
