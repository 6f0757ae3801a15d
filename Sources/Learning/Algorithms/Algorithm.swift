import Logging
import Numerics
import Transport

/// A decentralized learning algorithm: a strategy the one node loop calls.
///
/// The runtime owns the sockets, the clock, liveness, buffering, averaging mechanics, results
/// and checkpoints; an algorithm owns only its protocol (which round, whom to send to, what to
/// wait for, with which weights to mix). It sees its node only through `AlgorithmContext`, the
/// way a swift-nio handler sees its channel through a `ChannelHandlerContext`. Synchronous
/// algorithms do one round per `step`, asynchronous ones one local step; both wait only through
/// the context, so there is no second loop.
public protocol Algorithm: AnyObject {
  /// How the runtime treats peers and buffers models for this algorithm.
  var policy: RuntimePolicy { get }

  /// Whether a model from `sender` for `round` may be used at all (admission). Everything else
  /// is dropped, counted, and logged once per sender. The default admits graph neighbours.
  func admits(model sender: Int, round: Int, context: any AlgorithmContext) -> Bool

  /// Runs one round (or one step). Returns false once this node has finished.
  func step(_ context: any AlgorithmContext) throws -> Bool

  /// `peer` came up: first contact, back from down, or restarted (it said HELLO). A lockstep
  /// algorithm re-sends its current round's model, which the peer may never have received.
  func peerCameUp(_ peer: Int, context: any AlgorithmContext)

  /// The algorithm's own state for a checkpoint (ages, counters), and its restoration.
  func checkpointState() throws -> [UInt8]
  func restoreState(_ bytes: [UInt8]) throws
}

extension Algorithm {
  public func admits(model sender: Int, round: Int, context: any AlgorithmContext) -> Bool {
    context.neighbours.contains(sender)
  }
  public func peerCameUp(_ peer: Int, context: any AlgorithmContext) {}
  public func checkpointState() throws -> [UInt8] { [] }
  public func restoreState(_ bytes: [UInt8]) throws {}
}

/// The role a process plays in a run.
public enum NodeRole: String, Sendable, Codable, CaseIterable {
  /// A peer of a decentralized algorithm (D-PSGD, RWM, SwarmAvg, EL).
  case peer
  /// FedAvg's server: samples clients, averages their models; needs no training shard.
  case server
  /// FedAvg's client: trains when the server asks.
  case client
}

/// How the runtime treats peers and buffers models for an algorithm.
public struct RuntimePolicy: Sendable, Equatable {
  /// When a silent peer is marked down.
  public enum Liveness: String, Sendable {
    /// Only while it is awaited and its awaited message is not held (lockstep rounds: D-PSGD,
    /// EL, FedAvg).
    case whileAwaited
    /// Also whenever a heartbeat peer is found silent, awaited or not (random walk, SwarmAvg:
    /// nothing awaits one particular peer, but models must not go to a dead one).
    case always
  }

  /// Which uids this node deals with: control frames from anyone else are dropped and counted.
  public enum Peers: String, Sendable {
    /// Graph neighbours only.
    case neighbours
    /// Every node of the address book (Epidemic Learning sends to random nodes).
    case everyone
    /// A FedAvg server and its clients.
    case serverAndClients
  }

  public var liveness: Liveness
  public var mailbox: Mailbox.Mode
  public var peers: Peers

  public init(liveness: Liveness, mailbox: Mailbox.Mode, peers: Peers = .neighbours) {
    self.liveness = liveness
    self.mailbox = mailbox
    self.peers = peers
  }
}

/// How a wait ended.
public enum WaitOutcome: Sendable, Equatable {
  /// The condition holds (possibly because the awaited peers were marked down).
  case satisfied
  /// The caller's deadline passed first.
  case deadline
  /// A stop was requested (SIGTERM/SIGINT) or STOP arrived: finish up, do not start more work.
  case stopping
}

/// What an algorithm sees of its node.
///
/// Must be used from the node loop's thread only (the one calling `step`).
public protocol AlgorithmContext: AnyObject {
  // Who and where.
  var uid: Int { get }
  var role: NodeRole { get }
  /// Graph neighbours, ascending.
  var neighbours: [Int] { get }
  /// Peers of the run are uids `0..<peerCount` (FedAvg's clients); a FedAvg server is `serverUID`.
  var peerCount: Int { get }
  var serverUID: Int? { get }
  var iterations: Int { get }
  var settings: AlgorithmSettings { get }
  var log: Logger { get }
  /// Seconds on the node's clock (virtual on the embedded network).
  var now: Double { get }

  // Peers.
  /// Up, or not yet heard while the start grace lasts.
  func isLive(_ uid: Int) -> Bool
  /// What this node believes of `uid`: unknown (never heard), up, down (silent), departed (BYE).
  func peerState(_ uid: Int) -> PeerTable.State
  var liveNeighbours: [Int] { get }
  /// The round `uid`'s last frame announced (where that peer is), or nil if never heard.
  func announcedRound(of uid: Int) -> Int?
  /// The round the live neighbours are in: the highest round at least half of them have
  /// announced (so one peer announcing a wild round cannot move this node). 0 when none known.
  func neighbourhoodRound() -> Int

  // Rounds and local work.
  /// The round (or step) this node is in: announced in every frame it sends.
  var round: Int { get }
  /// Enters `round`: models of earlier rounds become stale, phase timers restart.
  func beginRound(_ round: Int)
  /// The configured local steps (or epochs) on the training shard; nil when no step ran.
  func train() throws -> Double?
  /// Training samples of this node (FedAvg weights by it).
  var sampleCount: Int { get }
  /// The model's flat parameter vector, averaged in place.
  var parameters: FloatBuffer { get }
  /// `count` distinct uids drawn uniformly from `candidates` with the seeded peer-choice stream.
  func choosePeers(_ count: Int, from candidates: [Int]) -> [Int]
  /// `count` distinct uids drawn uniformly from `candidates` by `node` for `round`, from a stream
  /// that depends only on the run's seed, `node` and `round`: any node computes the same draw for
  /// any other, so a receiver knows who sends to it without being told (Epidemic Learning).
  func scheduledPeers(_ count: Int, from candidates: [Int], node: Int, round: Int) -> [Int]

  // Messages.
  /// Models received and admitted, kept until taken.
  var mailbox: Mailbox { get }
  /// Sends this node's current share, framed once, to each of `peers` (a connection to a
  /// non-neighbour opens on demand). The header carries `round`, this node's live degree,
  /// `age` and `aux`. Returns the uids it was queued for.
  @discardableResult func send(to peers: [Int], age: UInt64, aux: UInt64) -> [Int]
  /// Sends the last frame `send` built to `peer` again (a peer that came back mid-round).
  func resendLast(to peer: Int)
  /// Waits, serving the network, until `done()` or `deadline`. Peers in `awaiting()` that stay
  /// silent past `peer_timeout` are marked down meanwhile (then `awaiting` should drop them).
  func wait(for what: String, deadline: Double?, awaiting: () -> [Int], until done: () -> Bool) throws -> WaitOutcome
  /// Ends the run for everyone: STOP to every peer this node deals with, which forward it once.
  func stopRun()
  /// A stop was requested or STOP arrived.
  var isStopping: Bool { get }
  /// Gives up the run because what this node depends on is gone (a FedAvg client whose server
  /// stayed down): the next `step` should return false; the node exits as `abandoned` (code 5).
  func abandonRun(_ why: String)

  // Mixing and records.
  /// parameters ← selfWeight·parameters + Σ weight[m.sender]·m (per parameter, over the
  /// messages that carry it, for partial shares). Counts and reports non-finite values per
  /// sender; tells the sharing method; resets the optimizer when configured.
  func average(_ messages: [ModelMessage], weights: [Int: Double], selfWeight: Double)
  /// Records the finished round: traffic, timings, whom it mixed with; evaluates and
  /// checkpoints on their schedules. `mixedWith` empty while the node has neighbours counts as a
  /// round trained alone.
  func completeRound(trainLoss: Double?, mixedWith: [Int]) throws
  /// Adds to a named counter of the results file (`counters`).
  func count(_ name: String, by amount: Int)
  /// Records, for the current round, this node's age or training counter when it mixed and that
  /// of each model it mixed with, by sender (`own_age`, `mixed_ages`): the node's own account of
  /// what it combined, for RWM's age rule and SwarmAvg's staleness rule.
  func recordAges(own: Double, mixed: [Int: Double])
}

extension AlgorithmContext {
  @discardableResult public func send(to peers: [Int]) -> [Int] { send(to: peers, age: 0, aux: 0) }
  public func count(_ name: String) { count(name, by: 1) }

  /// Waits until every live peer of `pending()` has been dealt with; the peers still pending
  /// are the awaited ones.
  public func waitForPeers(_ what: String, deadline: Double? = nil, pending: () -> [Int]) throws -> WaitOutcome {
    try wait(for: what, deadline: deadline, awaiting: pending) { pending().allSatisfy { !isLive($0) } }
  }
}

/// A bad algorithm setting or state.
public enum AlgorithmError: Error, Equatable, CustomStringConvertible {
  case badCheckpointState(String)
  case misconfigured(String)

  public var description: String {
    switch self {
    case .badCheckpointState(let why): return "algorithm state in the checkpoint is unusable: \(why)"
    case .misconfigured(let why): return why
    }
  }
}

/// Maps `[NODE] algorithm` names to implementations. Adding an algorithm is one file and one
/// entry here.
public enum AlgorithmRegistry {
  public typealias Maker = @Sendable (AlgorithmSettings) throws -> any Algorithm

  public static let registry = Registry<Maker>(
    kind: "[NODE] algorithm",
    [
      .init("dpsgd") { _ in DPSGD() },
      .init("rwm", aliases: ["random_walk"]) { RandomWalk(settings: $0) },
      .init("swarmavg", aliases: ["swarm"]) { SwarmAvg(settings: $0) },
      .init("fedavg", aliases: ["federated", "FederatedAveraging"]) { FedAvg(settings: $0) },
      .init("epidemic", aliases: ["el", "el_local", "EpidemicLearning"]) { EpidemicLearning(settings: $0) },
    ])

  public static var names: [String] { registry.names }

  public static func make(_ name: String, settings: AlgorithmSettings) throws -> any Algorithm {
    try registry.resolve(name).make(settings)
  }
}
