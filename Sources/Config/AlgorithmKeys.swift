/// The algorithms' own `[NODE]` keys (docs/configuration.md), read and range-checked by
/// `NodeSection`.
///
/// Config is a leaf layer, so these are raw typed values; `NodePlan` turns them into the
/// Learning layer's `AlgorithmSettings`, filling the defaults that depend on the graph (γ from the
/// degree, the EL fan-out from the node count) and checking what needs the node count, with the
/// key's line kept in `lines` so that those errors still name file and line.
public struct AlgorithmKeys: Sendable, Equatable {
  /// RWM: seconds a node waits for a walker before it trains and sends anyway; nil = peer_timeout.
  public var rwmTimeout: Double?
  /// SwarmAvg: the mix rate α in [0, 1]; 0 combines by plain mean.
  public var swarmAlpha: Double
  /// SwarmAvg: the staleness tolerance β ≥ 0, in training steps.
  public var swarmBeta: Double
  /// SwarmAvg: the minimum number of neighbours to combine with, γ; nil = min(8, degree).
  public var swarmGamma: Int?
  /// SwarmAvg: seconds to wait for γ neighbours to catch up before an unsynchronised step.
  public var syncTimeout: Double
  /// FedAvg: clients sampled per round, or the fraction of them (at most one of the two is set).
  public var clientsPerRound: Int?
  public var clientFraction: Double?
  /// FedAvg: seconds the server waits for the sampled clients' models; nil = peer_timeout.
  public var roundDeadline: Double?
  /// Epidemic Learning: nodes each node sends to per round; nil = ⌈log2 n⌉.
  public var elFanout: Int?
  /// Stragglers: uid → slowdown factor ≥ 1 (`slow_nodes = 3:4.0, 7:2`).
  public var slowNodes: [Int: Double]
  /// The line of each key given, for errors found once the node count is known.
  public var lines: [String: Int]
  /// The file the keys came from.
  public var file: String

  public init() {
    swarmAlpha = 0.6
    swarmBeta = 0
    syncTimeout = 10
    slowNodes = [:]
    lines = [:]
    file = ""
  }

  init(_ r: inout SectionReader) throws {
    self.init()
    file = r.document.path
    for key in [
      "rwm_timeout", "swarm_gamma", "clients_per_round", "client_fraction", "el_fanout", "slow_nodes", "round_deadline",
    ] {
      if let line = r.entry(key)?.line { lines[key] = line }
    }
    rwmTimeout = try Self.positive(&r, "rwm_timeout")
    swarmAlpha = try r.double("swarm_alpha", default: 0.6)
    guard (0...1).contains(swarmAlpha) else {
      throw r.error("swarm_alpha", "must be a mix rate in [0, 1], got \(swarmAlpha)", .outOfRange)
    }
    swarmBeta = try r.double("swarm_beta", default: 0)
    guard swarmBeta >= 0 else {
      throw r.error("swarm_beta", "must be ≥ 0 training steps, got \(swarmBeta)", .outOfRange)
    }
    swarmGamma = try r.int("swarm_gamma")
    if let g = swarmGamma, g < 0 { throw r.error("swarm_gamma", "must be ≥ 0 neighbours, got \(g)", .outOfRange) }
    syncTimeout = try r.double("sync_timeout", default: 10)
    guard syncTimeout >= 0 && syncTimeout <= 3600 else {
      throw r.error("sync_timeout", "must be seconds in [0, 3600], got \(syncTimeout)", .outOfRange)
    }
    clientsPerRound = try r.int("clients_per_round")
    if let k = clientsPerRound, k < 1 {
      throw r.error("clients_per_round", "must be at least 1, got \(k)", .outOfRange)
    }
    clientFraction = try r.double("client_fraction")
    if let f = clientFraction {
      guard f > 0 && f <= 1 else {
        throw r.error("client_fraction", "must be a fraction in (0, 1], got \(f)", .outOfRange)
      }
      if clientsPerRound != nil {
        throw r.error("client_fraction", "give clients_per_round or client_fraction, not both")
      }
    }
    roundDeadline = try Self.positive(&r, "round_deadline")
    elFanout = try r.int("el_fanout")
    if let s = elFanout, s < 1 { throw r.error("el_fanout", "must be at least 1 node, got \(s)", .outOfRange) }
    slowNodes = try Self.slowNodes(&r)
  }

  private static func positive(_ r: inout SectionReader, _ key: String) throws -> Double? {
    guard let v = try r.double(key) else { return nil }
    guard v > 0 && v <= 86_400 else {
      throw r.error(key, "must be positive seconds (at most 86400), got \(v)", .outOfRange)
    }
    return v
  }

  /// `uid:factor` pairs separated by commas or spaces, factors ≥ 1 (4.0 = four times slower).
  private static func slowNodes(_ r: inout SectionReader) throws -> [Int: Double] {
    guard let v = r.nonEmpty("slow_nodes") else { return [:] }
    var out: [Int: Double] = [:]
    let items = v.split { $0 == "," || $0 == " " || $0 == "\t" }.map(String.init).filter { !$0.isEmpty }
    for item in items {
      let parts = item.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count == 2, let uid = Int(parts[0]), uid >= 0, let factor = Double(parts[1]), factor.isFinite else {
        throw r.error("slow_nodes", "expected uid:factor pairs like 3:4.0, got \(INIDocument.excerpt(item))")
      }
      guard factor >= 1 && factor <= 1000 else {
        throw r.error(
          "slow_nodes", "a slowdown factor must be in [1, 1000] (4.0 = four times slower), got \(factor)", .outOfRange)
      }
      guard out[uid] == nil else { throw r.error("slow_nodes", "uid \(uid) is listed twice") }
      out[uid] = factor
    }
    return out
  }
}
