import Sharing

/// What the results file says about differential privacy (`privacy`).
public struct PrivacyRecord: Codable, Sendable, Equatable {
  public var clip: Double
  public var sigma: Double
  public var delta: Double
  /// `seeded` or `system`.
  public var noise: String
  /// Releases: shares that followed training (the accountant's T; one per round for D-PSGD).
  public var roundsShared = 0
  /// Releases whose update was longer than `clip`.
  public var roundsClipped = 0
  /// ε at `delta` after `roundsShared` releases, by Rényi DP (the standard accountant).
  public var epsilon = 0.0
  /// The exact ε of the same composition (μ-GDP, μ = √T / (σ/2)); never above `epsilon`.
  public var epsilonExact = 0.0
  public var accountant =
    "Gaussian mechanism, L2 sensitivity 2·clip, composed over rounds_shared releases: RDP (Mironov 2017) with Balle et al. 2020's conversion; exact: mu-GDP"
  /// The update's L2 norm before clipping, per round.
  public var updateNorm = RoundSeries<Double>()

  public init(_ s: PrivacySettings) {
    clip = s.clip
    sigma = s.sigma
    delta = s.delta
    noise = s.noise.rawValue
  }

  enum CodingKeys: String, CodingKey {
    case clip, sigma, delta, noise, epsilon, accountant
    case roundsShared = "rounds_shared"
    case roundsClipped = "rounds_clipped"
    case epsilonExact = "epsilon_exact"
    case updateNorm = "update_norm"
  }
}
