/// Every algorithm's own knobs from `[NODE]`, resolved and validated (docs/configuration.md).
///
/// One value type for all of them, so that the config, the plan, checkpoints and tests name a
/// knob the same way; each algorithm reads only its own. The runtime's knobs (timeouts,
/// schedules) are in `NodePlan`. Defaults that depend on the run (γ on the degree, the EL fan-out
/// on the node count) stay nil here and are computed by the helpers below, so a plan built by
/// hand in a test gets the same defaults as one read from a config.
public struct AlgorithmSettings: Sendable, Equatable {
  /// RWM: seconds a node waits for a walker before it trains and sends anyway (re-injection).
  public var rwmTimeout = 30.0
  /// SwarmAvg: mix rate α; 0 combines by the plain mean of own and theirs.
  public var swarmAlpha = 0.6
  /// SwarmAvg: staleness tolerance β, in training steps: a neighbour is combined only when its
  /// counter + β ≥ this node's.
  public var swarmBeta = 0.0
  /// SwarmAvg: minimum neighbours to combine with; nil = min(8, degree) (the reference's 8).
  public var swarmGamma: Int?
  /// SwarmAvg: seconds to wait for γ eligible neighbours before carrying on unsynchronised.
  public var syncTimeout = 10.0
  /// FedAvg: clients per round (wins over `clientFraction`).
  public var clientsPerRound: Int?
  /// FedAvg: fraction of the clients sampled per round, rounded up (decentralizepy's
  /// `working_fraction`).
  public var clientFraction = 1.0
  /// FedAvg: seconds the server waits for the sampled clients' models before leaving the rest out.
  public var roundDeadline = 30.0
  /// Epidemic Learning: nodes sent to per round; nil = ⌈log2 n⌉.
  public var elFanout: Int?

  public init() {}

  /// γ for a node of `degree` neighbours.
  public func gamma(degree: Int) -> Int { swarmGamma ?? min(8, degree) }

  /// Clients the FedAvg server samples per round out of `clients`.
  public func clientsPerRound(of clients: Int) -> Int {
    guard clients > 0 else { return 0 }
    if let k = clientsPerRound { return min(k, clients) }
    return min(clients, max(1, Int((Double(clients) * clientFraction).rounded(.up))))
  }

  /// The EL fan-out s in a network of `nodes`: at most the n − 1 other nodes.
  public func fanout(nodes: Int) -> Int {
    let others = max(0, nodes - 1)
    if let s = elFanout { return min(s, others) }
    var log2 = 0
    while (1 << log2) < nodes { log2 += 1 }
    return min(max(1, log2), others)
  }
}
