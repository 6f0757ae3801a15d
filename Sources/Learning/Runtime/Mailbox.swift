import Transport

/// Models that arrived before the algorithm asked for them, kept within a bound.
///
/// The runtime puts every admitted model here; the algorithm takes what it needs. Memory is
/// bounded twice: by construction (one message per sender and round, or the newest per sender)
/// and by bytes, so a flood of far-future frames from a neighbour costs a counter, not the node's
/// memory (8,000 such frames once grew a node from 66 to 304 MB).
public final class Mailbox {
  public enum Mode: Sendable, Equatable {
    /// Lockstep rounds: one message per sender and round. Rounds below `floor` are stale; rounds
    /// more than `ahead` past `reference` are beyond the bound.
    case rounds(ahead: Int)
    /// The newest message per sender by `age` (SwarmAvg's training counter): an older or equal
    /// counter is stale.
    case latestPerSender
    /// First in, first out (random-walk models, each taken once).
    case queue
  }

  /// What became of an offered message.
  public enum Disposition: Equatable, Sendable {
    case kept
    /// Kept, in place of an earlier message of the same sender and round (or an older counter).
    case replaced
    case stale
    case beyondBound
  }

  public let mode: Mode
  public let byteLimit: Int
  public private(set) var bytes = 0
  /// Lockstep: the lowest round still wanted.
  public private(set) var floor = 0
  /// Lockstep: the round the look-ahead bound is measured from, at least `floor` (raised by the
  /// runtime when the neighbourhood is known to be further on, so a returning node can buffer the
  /// round it is about to join).
  public var reference = 0

  private var byRound: [Int: [Int: ModelMessage]] = [:]
  private var unusable: [Int: Set<Int>] = [:]
  private var newest: [Int: ModelMessage] = [:]
  private var fifo: [ModelMessage] = []
  private var fifoHead = 0

  public init(mode: Mode, byteLimit: Int) {
    self.mode = mode
    self.byteLimit = byteLimit
  }

  public func offer(_ m: ModelMessage) -> Disposition {
    switch mode {
    case .rounds(let ahead):
      guard m.round >= floor else { return .stale }
      guard m.round <= max(reference, floor) + ahead else { return .beyondBound }
      let previous = byRound[m.round]?[m.sender]
      let delta = m.frameBytes - (previous?.frameBytes ?? 0)
      guard bytes + delta <= byteLimit else { return .beyondBound }
      byRound[m.round, default: [:]][m.sender] = m
      bytes += delta
      return previous == nil ? .kept : .replaced
    case .latestPerSender:
      let previous = newest[m.sender]
      if let previous, previous.age >= m.age { return .stale }
      let delta = m.frameBytes - (previous?.frameBytes ?? 0)
      guard bytes + delta <= byteLimit else { return .beyondBound }
      newest[m.sender] = m
      bytes += delta
      return previous == nil ? .kept : .replaced
    case .queue:
      guard bytes + m.frameBytes <= byteLimit else { return .beyondBound }
      fifo.append(m)
      bytes += m.frameBytes
      return .kept
    }
  }

  /// Records that `sender`'s model for `round` arrived unusable: it will not come, so a lockstep
  /// wait stops awaiting it, but nothing of it is averaged.
  public func markUnusable(sender: Int, round: Int) {
    guard case .rounds = mode, round >= floor else { return }
    unusable[round, default: []].insert(sender)
  }

  /// Whether `sender`'s model for `round` arrived (usable or not).
  public func has(_ sender: Int, round: Int) -> Bool {
    byRound[round]?[sender] != nil || unusable[round]?.contains(sender) == true
  }

  /// The usable models of `round`, in ascending sender order (the averaging order).
  public func messages(round: Int) -> [ModelMessage] {
    (byRound[round] ?? [:]).values.sorted { $0.sender < $1.sender }
  }

  /// Lockstep: the rounds holding at least one usable model, ascending (a FedAvg client does not
  /// know in advance which round's model the server will send it).
  public var heldRounds: [Int] { byRound.filter { !$0.value.isEmpty }.keys.sorted() }

  /// Drops every round below `round` and stops accepting them.
  public func discard(below round: Int) {
    guard round > floor else { return }
    floor = round
    reference = max(reference, round)
    for r in byRound.keys where r < round {
      for m in byRound[r]!.values { bytes -= m.frameBytes }
      byRound[r] = nil
    }
    for r in unusable.keys where r < round { unusable[r] = nil }
  }

  /// The newest model of every sender, ascending by sender (latest-per-sender mode).
  public var latest: [ModelMessage] { newest.values.sorted { $0.sender < $1.sender } }

  public func latest(from sender: Int) -> ModelMessage? { newest[sender] }

  /// Forgets `sender`'s newest model (it restarted: its counter starts again).
  public func forget(_ sender: Int) {
    if let m = newest.removeValue(forKey: sender) { bytes -= m.frameBytes }
  }

  /// The oldest queued model, removed (queue mode).
  public func take() -> ModelMessage? {
    guard fifoHead < fifo.count else { return nil }
    let m = fifo[fifoHead]
    fifoHead += 1
    bytes -= m.frameBytes
    if fifoHead > 32 && fifoHead * 2 > fifo.count {
      fifo.removeFirst(fifoHead)
      fifoHead = 0
    }
    return m
  }

  /// Queued models (queue mode).
  public var queued: Int { fifo.count - fifoHead }
}
