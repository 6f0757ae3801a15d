/// What this node knows about each neighbour: is it up, when was it last heard, what degree did
/// it last announce.
///
/// Liveness rule (DESIGN decision 5): a neighbour silent past `peer_timeout` while we wait on it is
/// marked down and the round goes on without it; any later message from it (a HELLO after a
/// restart, or a model) marks it up again. A BYE marks it down at once: it left on purpose.
public struct PeerTable {
  public enum State: Equatable, Sendable {
    case unknown, up, down, departed
  }

  public struct Peer: Sendable {
    public var uid: Int
    public var state: State = .unknown
    public var lastHeard: Double = 0
    public var degree: Int = 0
  }

  private(set) var peers: [Int: Peer]
  /// Neighbour uids in ascending order: the order in which shares are averaged (determinism).
  public let neighbours: [Int]

  public init(neighbours: [Int]) {
    self.neighbours = neighbours.sorted()
    var table: [Int: Peer] = [:]
    for uid in neighbours { table[uid] = Peer(uid: uid) }
    peers = table
  }

  public func contains(_ uid: Int) -> Bool { peers[uid] != nil }
  public func state(of uid: Int) -> State { peers[uid]?.state ?? .unknown }
  public func peer(_ uid: Int) -> Peer? { peers[uid] }

  /// Neighbours currently believed alive (`up` or not yet heard from).
  public var live: [Int] { neighbours.filter { peers[$0]!.state == .up || peers[$0]!.state == .unknown } }
  public var up: [Int] { neighbours.filter { peers[$0]!.state == .up } }
  public var liveDegree: Int { live.count }

  /// Records that `uid` was heard from at `time`. Returns true when this re-admitted a peer that
  /// was down or departed.
  @discardableResult
  public mutating func heard(from uid: Int, at time: Double, degree: Int? = nil) -> Bool {
    guard var p = peers[uid] else { return false }
    let wasGone = p.state == .down || p.state == .departed
    p.state = .up
    p.lastHeard = time
    if let degree { p.degree = degree }
    peers[uid] = p
    return wasGone
  }

  public mutating func markDown(_ uid: Int) { peers[uid]?.state = .down }
  public mutating func markDeparted(_ uid: Int) { peers[uid]?.state = .departed }
}
