/// What a node knows about every peer it deals with: whether it is up, when it was last heard,
/// the round and degree its last frame announced, and when to probe it again.
///
/// The liveness rules (docs/protocol.md §5) in one place:
/// - **Silence** is measured from when a peer was last heard (any valid frame), so nodes that
///   wait together do not all time out together. A peer that does not exchange heartbeats with
///   this node (a random non-neighbour, say) is given the benefit of the wait: its silence counts
///   from when this node started waiting for it. A peer never heard at all is given
///   `startTimeout` from this node's start, since processes start at different speeds.
/// - **Down is not forever.** A down peer is probed with HELLO at growing intervals, and any
///   valid frame from it brings it back up.
/// - **Departed** peers (BYE) left on purpose: not probed, but a frame from them (a restart)
///   brings them back.
///
/// Which peers are awaited, and so which can be marked down, is the algorithm's business: a
/// peer whose awaited message is already held is never awaited, so never marked down by a wait.
public struct PeerTable: Sendable {
  public enum State: String, Sendable, Codable {
    case unknown, up, down, departed
  }

  public struct Peer: Sendable {
    public let uid: Int
    public fileprivate(set) var state: State = .unknown
    /// When a valid frame last arrived; nil when none ever did.
    public fileprivate(set) var lastHeard: Double?
    /// The degree its last frame announced (Metropolis–Hastings weights use it).
    public fileprivate(set) var degree = 0
    /// The round its last frame announced: where that peer is.
    public fileprivate(set) var round = 0
    /// The incarnation its control frames announce (0 until one arrives).
    public fileprivate(set) var incarnation: UInt64 = 0
    /// Whether this node and that peer send each other heartbeats (graph neighbours, a FedAvg
    /// server and its clients).
    public let exchangesHeartbeats: Bool
    fileprivate var nextProbe = 0.0
    fileprivate var probeInterval = PeerTable.firstProbeInterval
  }

  /// The first interval between HELLO probes of a down peer; it doubles up to `maxProbeInterval`.
  public static let firstProbeInterval = 0.5
  public let maxProbeInterval: Double

  /// Graph neighbours, ascending: the order in which shares are averaged (determinism).
  public let neighbours: [Int]
  public let peerTimeout: Double
  public let startTimeout: Double
  public let startTime: Double
  private var peers: [Int: Peer] = [:]

  public init(neighbours: [Int], heartbeatPeers: [Int] = [], peerTimeout: Double, startTimeout: Double, now: Double) {
    self.neighbours = neighbours.sorted()
    self.peerTimeout = peerTimeout
    self.startTimeout = startTimeout
    startTime = now
    maxProbeInterval = max(Self.firstProbeInterval, min(peerTimeout, 8))
    for uid in Set(neighbours).union(heartbeatPeers) { peers[uid] = Peer(uid: uid, exchangesHeartbeats: true) }
  }

  /// Starts tracking a peer outside the heartbeat set (a node an algorithm sends to or awaits).
  public mutating func track(_ uid: Int) {
    if peers[uid] == nil { peers[uid] = Peer(uid: uid, exchangesHeartbeats: false) }
  }

  public func contains(_ uid: Int) -> Bool { peers[uid] != nil }
  public func peer(_ uid: Int) -> Peer? { peers[uid] }
  public func state(of uid: Int) -> State { peers[uid]?.state ?? .unknown }
  public var tracked: [Int] { peers.keys.sorted() }
  /// The peers heartbeats go to, ascending.
  public var heartbeatPeers: [Int] { peers.values.filter(\.exchangesHeartbeats).map(\.uid).sorted() }

  /// A peer believed alive: up, or not heard yet while the start grace lasts.
  public func isLive(_ uid: Int) -> Bool {
    guard let p = peers[uid] else { return false }
    return p.state == .up || p.state == .unknown
  }

  /// Neighbours believed alive, ascending.
  public var liveNeighbours: [Int] { neighbours.filter(isLive) }

  /// Records a valid frame from `uid` announcing `round` and `degree`. Returns true when it
  /// brought the peer up from any other state (first contact, or back from down or departed).
  @discardableResult
  public mutating func heard(_ uid: Int, at time: Double, round: Int, degree: Int) -> Bool {
    if peers[uid] == nil { track(uid) }
    var p = peers[uid]!
    let cameUp = p.state != .up
    p.state = .up
    p.lastHeard = time
    p.round = round
    p.degree = degree
    p.probeInterval = Self.firstProbeInterval
    peers[uid] = p
    return cameUp
  }

  /// Records the incarnation a control frame of `uid` announced. Returns true when it is a new
  /// one after an earlier: the peer restarted.
  public mutating func noteIncarnation(_ incarnation: UInt64, of uid: Int) -> Bool {
    guard incarnation != 0 else { return false }
    if peers[uid] == nil { track(uid) }
    let previous = peers[uid]!.incarnation
    peers[uid]!.incarnation = incarnation
    return previous != 0 && previous != incarnation
  }

  /// Marks `uid` down; its first probe goes out at once.
  public mutating func markDown(_ uid: Int, at time: Double) {
    guard var p = peers[uid] else { return }
    p.state = .down
    p.nextProbe = time
    p.probeInterval = Self.firstProbeInterval
    peers[uid] = p
  }

  public mutating func markDeparted(_ uid: Int) { peers[uid]?.state = .departed }

  /// Whether `uid`, awaited since `awaitedSince`, has been silent too long (the rules above).
  public func isOverdue(_ uid: Int, now: Double, awaitedSince: Double) -> Bool {
    guard let p = peers[uid] else { return false }
    guard let heard = p.lastHeard else {
      return now - startTime > startTimeout && now - awaitedSince > peerTimeout
    }
    let reference = p.exchangesHeartbeats ? heard : max(heard, awaitedSince)
    return now - reference > peerTimeout
  }

  /// Seconds since `uid` was last heard (or since this node started, if never).
  public func silence(of uid: Int, now: Double) -> Double {
    now - (peers[uid]?.lastHeard ?? startTime)
  }

  /// The down peers due for a HELLO probe now, ascending; each one's next probe is scheduled
  /// at twice the previous interval, up to `maxProbeInterval`.
  public mutating func probesDue(now: Double) -> [Int] {
    var due: [Int] = []
    for uid in peers.keys.sorted() {
      guard var p = peers[uid], p.state == .down, now >= p.nextProbe else { continue }
      p.nextProbe = now + p.probeInterval
      p.probeInterval = min(p.probeInterval * 2, maxProbeInterval)
      peers[uid] = p
      due.append(uid)
    }
    return due
  }
}
