/// Every algorithm's own knobs from `[NODE]`, resolved and validated (docs/configuration.md).
///
/// One value type for all of them, so that the config, the plan, checkpoints and tests name a
/// knob the same way; each algorithm reads only its own. The runtime's knobs (timeouts,
/// schedules) are in `NodePlan`.
public struct AlgorithmSettings: Sendable, Equatable {
  public init() {}
}
