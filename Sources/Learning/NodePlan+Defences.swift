import Config
import Sharing

/// The config's hostile settings resolved into a plan: robust aggregation, differential
/// privacy and the test-only attacker, each checked against the rest of the config.
extension NodePlan {
  /// Strategies whose averaging goes through `Aggregator.average`, where a robust rule applies.
  /// CHOCO (Quantize, Choco) mixes public copies instead.
  static let robustStrategies: Set<String> = ["Sharing", "PartialModel", "RandomAlpha", "SubSampling", "TopK"]

  static func applyDefences(_ c: RunConfiguration, sharingName: String, to plan: inout NodePlan) throws {
    let d = c.sharing.defences
    switch d.aggregation {
    case "median": plan.aggregation = .median
    case "trimmed_mean": plan.aggregation = .trimmedMean(fraction: d.trimFraction)
    case "krum": plan.aggregation = .krum(f: d.krumF)
    default: plan.aggregation = .mean
    }
    if plan.aggregation != .mean && !robustStrategies.contains(sharingName) {
      throw c.error(
        .unsupported, section: "SHARING", key: "aggregation",
        "\(d.aggregation) cannot combine \(sharingName)'s shares (CHOCO's consensus step mixes public copies); use aggregation = mean, or \(robustStrategies.sorted().joined(separator: ", "))"
      )
    }
    if plan.aggregation != .mean && plan.algorithm == "rwm" {
      throw c.error(
        .unsupported, section: "SHARING", key: "aggregation",
        "\(d.aggregation) does not apply to rwm: a walker is mixed with one model by age, and a robust rule over two models is their weighted mean or one of them; use aggregation = mean"
      )
    }
    if case .krum = plan.aggregation, sharingName != "Sharing" {
      throw c.error(
        .unsupported, section: "SHARING", key: "aggregation",
        "krum compares whole models and needs sharing_class = Sharing (got \(sharingName)); median and trimmed_mean take partial shares"
      )
    }
    if let clip = d.dpClip {
      plan.privacy = PrivacySettings(
        clip: clip, sigma: d.dpSigma, delta: d.dpDelta, noise: PrivacySettings.Noise(rawValue: d.dpNoise) ?? .seeded)
    }
    let a = c.node.attack
    guard a.attack != "none", let kind = Attack.Kind(rawValue: a.attack) else { return }
    let attack = Attack(kind: kind, scale: a.scale)
    let uids = Array(Set(a.attackers)).sorted()
    plan.warnings.append(
      "[NODE] attack = \(a.attack): nodes \(uids) send \(attack) instead of their models (a robustness test; never in a real run)"
    )
    if uids.contains(plan.uid) { plan.attack = attack }
  }

  /// Every attacker must be a node of the graph: checked once the graph is read (`resolve`); a
  /// config checked without a graph cannot know its size.
  static func checkAttackers(_ c: RunConfiguration, graphNodes: Int) throws {
    let a = c.node.attack
    guard a.attack != "none" else { return }
    if let bad = a.attackers.first(where: { $0 >= graphNodes }) {
      throw c.error(
        .outOfRange, section: "NODE", key: "attackers", "\(bad) is not a node of the \(graphNodes)-node graph")
    }
  }
}
