import Foundation
import Transport

/// SwarmAvg (seed 000; the semantics of its author's `swarm_dist.py`): asynchronous averaging with
/// a staleness rule, no rounds in lockstep.
///
/// The runtime keeps the newest model and training counter of every neighbour (a higher counter
/// replaces a lower one; an older or equal one is dropped). Each step of a node with counter c:
/// 1. train; c ← c + 1;
/// 2. send the model and c to every live neighbour;
/// 3. the *eligible* neighbours are those whose newest counter cⱼ satisfies cⱼ + β ≥ c; if at
///    least γ are eligible (at most the live degree: a dead neighbour cannot be waited for),
///    combine: with α = 0 the plain mean of own and theirs, else
///    x ← (1 − α)·x + α·mean(theirs), and the counter is mixed the same way;
/// 4. otherwise wait up to `sync_timeout` for γ of them; if they still are not there, the step
///    goes on unsynchronised with the eligible neighbours it has (none, or fewer than γ), logged
///    and counted as `swarm_unsynced_steps`: the reference does the same after 10 × 1 s, silently.
///    Fewer than γ are therefore combined only after a full `sync_timeout`, and counted.
///
/// With β = 0 and γ = the degree, counters that differ by a fraction of a step deadlock in
/// pairs: each of two neighbours needs the other to step first. Combining after the timeout (as
/// the reference does) keeps those nodes learning; β ≥ 1 (a neighbour no more than one step
/// behind is eligible) removes the deadlock.
///
/// Counters are fractional once mixed; on the wire the header's `age` carries c in units of
/// 1/65536 step, so the runtime's newest-counter rule compares them exactly. Each node runs
/// `iterations` steps; a neighbour that finished said BYE and no longer counts towards γ.
public final class SwarmAvg: Algorithm {
  public let policy = RuntimePolicy(liveness: .always, mailbox: .latestPerSender)
  let settings: AlgorithmSettings
  /// Steps of training behind this model, mixed with the neighbours' like the parameters.
  public private(set) var counter = 0.0

  public init(settings: AlgorithmSettings) { self.settings = settings }

  /// The counter as the header's `age`: fixed point with 16 fractional bits.
  public static func wire(_ counter: Double) -> UInt64 { UInt64((max(0, counter) * 65536).rounded()) }
  public static func counter(_ age: UInt64) -> Double { Double(age) / 65536 }
  static func format(_ c: Double) -> String { String(format: "%.3f", c) }

  public func step(_ ctx: any AlgorithmContext) throws -> Bool {
    let r = ctx.round + 1
    ctx.beginRound(r)
    let trainLoss = try ctx.train()
    counter += 1
    ctx.send(to: ctx.liveNeighbours, age: Self.wire(counter), aux: 0)

    let beta = settings.swarmBeta
    let gamma = settings.gamma(degree: ctx.neighbours.count)
    let own = counter
    func eligible() -> [ModelMessage] {
      ctx.mailbox.latest.filter { ctx.neighbours.contains($0.sender) && Self.counter($0.age) + beta >= own }
    }
    func required() -> Int { min(gamma, ctx.liveNeighbours.count) }
    if eligible().count < required() {
      let outcome = try ctx.wait(
        for: "\(gamma) neighbours at counter \(own)", deadline: ctx.now + settings.syncTimeout, awaiting: { [] }
      ) { eligible().count >= required() }
      if outcome == .stopping { return false }
    }
    let chosen = eligible()
    if chosen.count < required() {
      ctx.count("swarm_unsynced_steps")
      let theirs = ctx.mailbox.latest.filter { ctx.neighbours.contains($0.sender) }
        .map { "\($0.sender): \(Self.format(Self.counter($0.age)))" }.joined(separator: ", ")
      ctx.log.info(
        "step \(r): \(chosen.count) of \(required()) neighbours caught up within \(settings.syncTimeout) s (counter \(Self.format(own)); theirs \(theirs)); going on unsynchronised"
      )
    }
    if !chosen.isEmpty { combine(chosen, ctx) }
    let mixed = chosen.map(\.sender)
    try ctx.completeRound(trainLoss: trainLoss, mixedWith: mixed)
    return r < ctx.iterations
  }

  private func combine(_ chosen: [ModelMessage], _ ctx: any AlgorithmContext) {
    var theirs: [Int: Double] = [:]
    for m in chosen { theirs[m.sender] = Self.counter(m.age) }
    ctx.recordAges(own: counter, mixed: theirs)
    let k = Double(chosen.count)
    let meanCounter = theirs.values.reduce(0, +) / k
    let alpha = settings.swarmAlpha
    if alpha == 0 {
      let w = 1 / (k + 1)
      ctx.average(chosen, weights: theirs.mapValues { _ in w }, selfWeight: w)
      counter = (counter + meanCounter * k) / (k + 1)
    } else {
      ctx.average(chosen, weights: theirs.mapValues { _ in alpha / k }, selfWeight: 1 - alpha)
      counter = (1 - alpha) * counter + alpha * meanCounter
    }
  }

  /// A neighbour that (re)started has none of this node's models: send it the latest.
  public func peerCameUp(_ peer: Int, context ctx: any AlgorithmContext) {
    guard ctx.neighbours.contains(peer) else { return }
    ctx.resendLast(to: peer)
  }

  public func checkpointState() throws -> [UInt8] {
    withUnsafeBytes(of: counter.bitPattern.littleEndian) { Array($0) }
  }

  public func restoreState(_ bytes: [UInt8]) throws {
    guard bytes.count == 8 else {
      throw AlgorithmError.badCheckpointState("SwarmAvg keeps 8 bytes, got \(bytes.count)")
    }
    counter = Double(bitPattern: bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) })
  }
}
