/// `[SHARING]`'s keys for hostile settings (docs/configuration.md): differential privacy on what
/// a node shares, and the rule that combines what it receives.
public struct SharingDefences: Sendable, Equatable {
  /// `mean`, `median`, `trimmed_mean` or `krum`.
  public var aggregation: String
  /// trimmed_mean: the fraction of received values dropped at each end, in [0, 0.5).
  public var trimFraction: Double
  /// krum: how many neighbours may be Byzantine.
  public var krumF: Int
  /// L2 bound on the update a node shares; nil: no differential privacy.
  public var dpClip: Double?
  /// Noise standard deviation in units of `dpClip`.
  public var dpSigma: Double
  public var dpDelta: Double
  /// `seeded` (from `random_seed`, reproducible) or `system` (the kernel's random source).
  public var dpNoise: String

  public static let aggregations = ["mean", "median", "trimmed_mean", "krum"]
  public static let noiseSources = ["seeded", "system"]
  /// A noise multiplier above this is a typo: the noise would be 10⁴ clips per parameter.
  public static let maximumSigma = 10_000.0

  init(_ r: inout SectionReader) throws {
    aggregation = r.nonEmpty("aggregation")?.lowercased() ?? "mean"
    guard Self.aggregations.contains(aggregation) else {
      throw r.error(
        "aggregation", "expected mean, median, trimmed_mean or krum, got \(INIDocument.excerpt(aggregation))",
        .unsupported)
    }
    let trim = try r.double("trim_fraction")
    if trim != nil && aggregation != "trimmed_mean" {
      throw r.error("trim_fraction", "applies to aggregation = trimmed_mean only (aggregation is \(aggregation))")
    }
    trimFraction = trim ?? 0.25
    guard trimFraction >= 0 && trimFraction < 0.5 else {
      throw r.error("trim_fraction", "must be a fraction in [0, 0.5), got \(r.written("trim_fraction"))", .outOfRange)
    }
    let f = try r.int("krum_f", min: 0, max: ConfigLimits.krumF)
    if f != nil && aggregation != "krum" {
      throw r.error("krum_f", "applies to aggregation = krum only (aggregation is \(aggregation))")
    }
    krumF = f ?? 1

    dpClip = try r.double("dp_clip")
    if let clip = dpClip, !(clip > 0 && Float(clip).isFinite && Float(clip) >= Float.leastNormalMagnitude) {
      throw r.error(
        "dp_clip", "must be a positive L2 norm within float32 range, got \(r.written("dp_clip"))", .outOfRange)
    }
    let sigma = try r.double("dp_sigma")
    dpSigma = sigma ?? 0
    guard dpSigma >= 0 && dpSigma <= Self.maximumSigma else {
      throw r.error(
        "dp_sigma", "must be a noise multiplier in [0, \(Int(Self.maximumSigma))], got \(r.written("dp_sigma"))",
        .outOfRange)
    }
    if sigma != nil && dpClip == nil {
      throw r.error("dp_sigma", "needs dp_clip: the noise is dp_sigma × dp_clip, the bound on the shared update")
    }
    dpDelta = try r.double("dp_delta", default: 1e-5, expected: "a probability in (0, 1)") { $0 > 0 && $0 < 1 }
    dpNoise = r.nonEmpty("dp_noise")?.lowercased() ?? "seeded"
    guard Self.noiseSources.contains(dpNoise) else {
      throw r.error("dp_noise", "expected seeded or system, got \(INIDocument.excerpt(dpNoise))", .unsupported)
    }
    if dpClip == nil {
      for key in ["dp_delta", "dp_noise"] where r.entry(key) != nil {
        throw r.error(key, "applies with dp_clip only (differential privacy is off without it)")
      }
    }
  }
}

/// `[NODE]`'s test-only attacker: nodes that send poisoned models instead of their own, to
/// measure robust aggregation. Two keys must agree (`attack` and `attackers`), so that neither a
/// stray line nor a copied config makes a real run poisoned; every node logs it at start.
public struct AttackKeys: Sendable, Equatable {
  /// `none`, `scaled`, `sign_flip` or `random`.
  public var attack: String
  /// The uids that attack.
  public var attackers: [Int]
  /// scaled: s·x; sign_flip: −s·x; random: N(0, s²) per parameter.
  public var scale: Double?

  public static let kinds = ["none", "scaled", "sign_flip", "random"]

  init(_ r: inout SectionReader) throws {
    attack = r.nonEmpty("attack")?.lowercased() ?? "none"
    guard Self.kinds.contains(attack) else {
      throw r.error(
        "attack", "expected none, scaled, sign_flip or random, got \(INIDocument.excerpt(attack))", .unsupported)
    }
    attackers = try r.ints("attackers") ?? []
    scale = try r.double("attack_scale")
    if attack == "none" {
      for key in ["attackers", "attack_scale"] where r.entry(key) != nil {
        throw r.error(key, "applies with attack = scaled, sign_flip or random only")
      }
      return
    }
    guard !attackers.isEmpty else {
      throw r.error("attackers", "attack = \(attack) needs the attacking uids, like attackers = [3, 11]", .missing)
    }
    if let bad = attackers.first(where: { $0 < 0 || $0 > ConfigLimits.uid }) {
      throw r.error("attackers", "\(bad) is not a uid", .outOfRange)
    }
    if let s = scale, !(abs(s) <= 1e6 && s != 0) {
      throw r.error(
        "attack_scale", "must be non-zero and at most 1e6 in magnitude, got \(r.written("attack_scale"))", .outOfRange)
    }
  }
}
