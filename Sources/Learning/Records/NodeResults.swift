/// A node's `<uid>_results.json`: decentralizepy's layout and keys, plus peerd's own.
///
/// Written with `JSONEncoder` and read back by `peerctl report`/`plot` with `JSONDecoder` into this
/// same type, so the writer and the readers cannot drift. decentralizepy's keys mean what they
/// mean there: for MovieLens `test_loss` is the RMSE of the ratings, as decentralizepy writes it.
/// Every series is keyed by round (as a string). docs/configuration.md lists every key.
public struct NodeResults: Codable, Sendable, Equatable {
  // decentralizepy's keys.
  public var trainLoss = RoundSeries<Double>()
  public var testLoss = RoundSeries<Double>()
  public var testAcc = RoundSeries<Double>()
  public var totalBytes = RoundSeries<Int>()
  public var totalMeta = RoundSeries<Int>()
  public var totalDataPerN = RoundSeries<Int>()

  // peerd's additions, per round.
  public var trainBatchLoss = RoundSeries<Double>()
  public var testRMSE = RoundSeries<Double>()
  public var validationLoss = RoundSeries<Double>()
  public var validationAcc = RoundSeries<Double>()
  public var validationRMSE = RoundSeries<Double>()
  /// Seconds since the node started (monotonic), at the end of the round.
  public var elapsedTime = RoundSeries<Double>()
  /// Train + communicate + average of the round; the evaluation after it is `evaluateTime`.
  public var roundTime = RoundSeries<Double>()
  public var trainTime = RoundSeries<Double>()
  public var communicateTime = RoundSeries<Double>()
  public var averageTime = RoundSeries<Double>()
  public var evaluateTime = RoundSeries<Double>()
  /// CPU seconds (user + system, all threads) the process had used at the end of the round,
  /// before its evaluation; a difference of two rounds is what the rounds between cost the
  /// machine. Absent on the embedded network, whose nodes share one process.
  public var cpuTime = RoundSeries<Double>()
  /// The peers whose models this round's average used, ascending.
  public var mixedWith = RoundSeries<[Int]>()
  /// The graph neighbours believed alive when the round ended, ascending.
  public var liveNeighbours = RoundSeries<[Int]>()
  /// RWM and SwarmAvg: this node's age (training counter) when it mixed, before mixing.
  public var ownAge = RoundSeries<Double>()
  /// RWM and SwarmAvg: the age (training counter) of each model mixed, in `mixed_with`'s order.
  public var mixedAges = RoundSeries<[Double]>()

  // Run facts.
  public var uid = 0
  public var algorithm = ""
  /// `peer`, or FedAvg's `server` or `client`.
  public var role = "peer"
  public var sharing = ""
  /// `[SHARING] aggregation`: `mean`, or a robust rule with its parameter.
  public var aggregation = "mean"
  /// A test-only attacker's attack (`[NODE] attack`), nil for an honest node.
  public var attack: String?
  /// Differential privacy on what the node shared, nil without `dp_clip`.
  public var privacy: PrivacyRecord?
  public var parameterCount = 0
  public var startupTime = 0.0
  /// Rounds (or steps) this node completed, including any before a resume.
  public var roundsCompleted = 0
  /// Rounds that averaged with nobody although the node has graph neighbours.
  public var isolatedRounds = 0
  /// How the run ended for this node: `running`, `completed`, `stopped`, `isolated`, `abandoned`,
  /// `failed`.
  public var outcome = "running"
  /// How many times this node was started on this log dir with `--resume`.
  public var resumes = 0
  public var neighbourBytes: [String: NeighbourTraffic] = [:]
  /// Frames, or parts of frames, not used, by reason.
  public var rejectedFrames: [String: Int] = [:]
  /// Counters an algorithm keeps (random-walk re-injections, unsynchronised SwarmAvg steps, …).
  public var counters: [String: Int] = [:]
  /// Peers going down and coming back, in order.
  public var peerEvents: [PeerEvent] = []
  /// Incoming connections closed under the node (peers that exited, oversize messages, protocol
  /// errors), as ZeroMQ's monitor reported them.
  public var connectionsClosed = 0

  public init() {}

  /// The keys whose values depend on wall time and scheduling: two runs with the same seed agree
  /// on everything else.
  public static let timingKeys = [
    "elapsed_time", "round_time", "train_time", "communicate_time", "average_time", "evaluate_time", "cpu_time",
    "startup_time", "connections_closed",
  ]

  enum CodingKeys: String, CodingKey {
    case trainLoss = "train_loss"
    case testLoss = "test_loss"
    case testAcc = "test_acc"
    case totalBytes = "total_bytes"
    case totalMeta = "total_meta"
    case totalDataPerN = "total_data_per_n"
    case trainBatchLoss = "train_batch_loss"
    case testRMSE = "test_rmse"
    case validationLoss = "validation_loss"
    case validationAcc = "validation_acc"
    case validationRMSE = "validation_rmse"
    case elapsedTime = "elapsed_time"
    case roundTime = "round_time"
    case trainTime = "train_time"
    case communicateTime = "communicate_time"
    case averageTime = "average_time"
    case cpuTime = "cpu_time"
    case evaluateTime = "evaluate_time"
    case mixedWith = "mixed_with"
    case liveNeighbours = "live_neighbours"
    case ownAge = "own_age"
    case mixedAges = "mixed_ages"
    case uid, algorithm, role, sharing, aggregation, attack, privacy
    case parameterCount = "parameter_count"
    case startupTime = "startup_time"
    case roundsCompleted = "rounds_completed"
    case isolatedRounds = "isolated_rounds"
    case outcome, resumes
    case neighbourBytes = "neighbour_bytes"
    case rejectedFrames = "rejected_frames"
    case counters
    case peerEvents = "peer_events"
    case connectionsClosed = "connections_closed"
  }

  /// Reads what exists and leaves the rest at its default, so a file from an older peerd (or a
  /// decentralizepy results file) still loads.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    func get<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
      try c.decodeIfPresent(T.self, forKey: key) ?? fallback
    }
    trainLoss = try get(.trainLoss, .init())
    testLoss = try get(.testLoss, .init())
    testAcc = try get(.testAcc, .init())
    totalBytes = try get(.totalBytes, .init())
    totalMeta = try get(.totalMeta, .init())
    totalDataPerN = try get(.totalDataPerN, .init())
    trainBatchLoss = try get(.trainBatchLoss, .init())
    testRMSE = try get(.testRMSE, .init())
    validationLoss = try get(.validationLoss, .init())
    validationAcc = try get(.validationAcc, .init())
    validationRMSE = try get(.validationRMSE, .init())
    elapsedTime = try get(.elapsedTime, .init())
    roundTime = try get(.roundTime, .init())
    trainTime = try get(.trainTime, .init())
    communicateTime = try get(.communicateTime, .init())
    averageTime = try get(.averageTime, .init())
    evaluateTime = try get(.evaluateTime, .init())
    cpuTime = try get(.cpuTime, .init())
    mixedWith = try get(.mixedWith, .init())
    liveNeighbours = try get(.liveNeighbours, .init())
    ownAge = try get(.ownAge, .init())
    mixedAges = try get(.mixedAges, .init())
    uid = try get(.uid, 0)
    algorithm = try get(.algorithm, "")
    role = try get(.role, "peer")
    sharing = try get(.sharing, "")
    aggregation = try get(.aggregation, "mean")
    attack = try c.decodeIfPresent(String.self, forKey: .attack)
    privacy = try c.decodeIfPresent(PrivacyRecord.self, forKey: .privacy)
    parameterCount = try get(.parameterCount, 0)
    startupTime = try get(.startupTime, 0)
    roundsCompleted = try get(.roundsCompleted, 0)
    isolatedRounds = try get(.isolatedRounds, 0)
    outcome = try get(.outcome, "unknown")
    resumes = try get(.resumes, 0)
    neighbourBytes = try get(.neighbourBytes, [:])
    rejectedFrames = try get(.rejectedFrames, [:])
    counters = try get(.counters, [:])
    peerEvents = try get(.peerEvents, [])
    connectionsClosed = try get(.connectionsClosed, 0)
  }
}

/// Model traffic with one peer, both ways.
public struct NeighbourTraffic: Codable, Sendable, Equatable {
  public var sentData = 0
  public var sentMeta = 0
  public var sentMessages = 0
  public var receivedData = 0
  public var receivedMeta = 0
  public var receivedMessages = 0

  public init() {}

  enum CodingKeys: String, CodingKey {
    case sentData = "sent_data"
    case sentMeta = "sent_meta"
    case sentMessages = "sent_messages"
    case receivedData = "received_data"
    case receivedMeta = "received_meta"
    case receivedMessages = "received_messages"
  }
}

/// A peer going down or coming back, as this node saw it.
public struct PeerEvent: Codable, Sendable, Equatable {
  public enum Kind: String, Codable, Sendable {
    case down, up, departed
  }
  public var kind: Kind
  public var peer: Int
  /// This node's round when it happened.
  public var round: Int
  /// Seconds since this node started.
  public var time: Double
  /// Why: "silent 3.0 s while waiting for round 12 models", "HELLO", "model", "BYE".
  public var reason: String

  public init(kind: Kind, peer: Int, round: Int, time: Double, reason: String) {
    self.kind = kind
    self.peer = peer
    self.round = round
    self.time = time
    self.reason = reason
  }
}
