#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// (ε, δ) for T releases of the Gaussian mechanism, each with noise multiplier z (the noise
/// standard deviation over the L2 sensitivity), composed adaptively.
///
/// Two accountants, both standard for this setting (no subsampling: every release of a node is
/// seen by its neighbours):
/// - **Rényi DP** (Mironov, 2017): each release is (α, α/(2z²))-RDP, T of them compose to
///   (α, Tα/(2z²)), converted to (ε, δ) with the bound of Balle et al. (2020, Thm. 21) that
///   Opacus and TF Privacy use, ε = ε_α + log((α−1)/α) − (log δ + log α)/(α − 1), minimised
///   over α > 1.
/// - **Exact**: T adaptive Gaussian releases are exactly μ-GDP with μ = √T/z (Dong, Roth & Su,
///   2019), whose tightest ε solves δ = Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2) (Balle & Wang, 2018).
///   The RDP figure is never below it; it is the one to quote when comparing with the many
///   results stated through RDP.
public enum PrivacyAccountant {
  /// ε at `delta` after `releases` Gaussian releases of noise multiplier `z`, by RDP; infinity
  /// for z = 0, 0 for no release.
  public static func rdpEpsilon(noiseMultiplier z: Double, releases: Int, delta: Double) -> Double {
    guard releases > 0 else { return 0 }
    guard z > 0 else { return .infinity }
    let perOrder = Double(releases) / (2 * z * z)
    func epsilon(_ a: Double) -> Double {
      perOrder * a + log((a - 1) / a) - (log(delta) + log(a)) / (a - 1)
    }
    // A log-spaced scan of α − 1 over [1e-4, 1e7], then a golden-section refinement around the
    // best point (the bound is unimodal in α for the Gaussian mechanism).
    var bestT = -4.0
    var best = Double.infinity
    let steps = 2000
    for k in 0...steps {
      let t = -4 + 11 * Double(k) / Double(steps)
      let e = epsilon(1 + pow(10, t))
      if e < best {
        best = e
        bestT = t
      }
    }
    var lo = bestT - 11.0 / Double(steps)
    var hi = bestT + 11.0 / Double(steps)
    let g = (sqrt(5.0) - 1) / 2
    for _ in 0..<60 {
      let a = hi - g * (hi - lo)
      let b = lo + g * (hi - lo)
      if epsilon(1 + pow(10, a)) < epsilon(1 + pow(10, b)) { hi = b } else { lo = a }
    }
    return max(0, min(best, epsilon(1 + pow(10, (lo + hi) / 2))))
  }

  /// The tightest ε at `delta` for μ-GDP; infinity when μ is infinite.
  public static func gdpEpsilon(mu: Double, delta: Double) -> Double {
    guard mu.isFinite else { return .infinity }
    guard mu > 0 else { return 0 }
    func deltaAt(_ e: Double) -> Double {
      exp(logPhi(-e / mu + mu / 2)) - exp(e + logPhi(-e / mu - mu / 2))
    }
    if deltaAt(0) <= delta { return 0 }
    var lo = 0.0
    var hi = 1.0
    while deltaAt(hi) > delta && hi < 1e8 { hi *= 2 }
    for _ in 0..<200 {
      let mid = (lo + hi) / 2
      if deltaAt(mid) > delta { lo = mid } else { hi = mid }
    }
    return hi
  }

  /// ε at `delta` after `releases` Gaussian releases of noise multiplier `z`, exactly (μ = √T/z).
  public static func exactEpsilon(noiseMultiplier z: Double, releases: Int, delta: Double) -> Double {
    guard releases > 0 else { return 0 }
    guard z > 0 else { return .infinity }
    return gdpEpsilon(mu: Double(releases).squareRoot() / z, delta: delta)
  }

  /// log Φ(x) for the standard normal CDF, accurate far into the lower tail (where Φ underflows).
  static func logPhi(_ x: Double) -> Double {
    if x > -20 { return log(0.5 * erfc(-x / 2.0.squareRoot())) }
    // Φ(x) ≈ φ(x)/|x| · (1 − 1/x² + 3/x⁴) for x → −∞.
    let x2 = x * x
    return -x2 / 2 - log(-x) - 0.5 * log(2 * Double.pi) + log(1 - 1 / x2 + 3 / (x2 * x2))
  }
}
