/// Metropolis–Hastings mixing weights for D-PSGD (seed 001 §3.2.1; DESIGN "Algorithms").
///
/// w_ij = 1 / (1 + max(d_i, d_j)) for each neighbour j, and w_ii = 1 − Σ_j w_ij. The matrix is
/// symmetric and doubly stochastic when every node uses the same degrees, which is what makes
/// the average converge to the mean of the models. The caller passes only the neighbours that
/// are live (or that actually sent this round), so the weights are recomputed over them.
public struct MixingWeights: Sendable, Equatable {
  public var selfWeight: Double
  public var weights: [Int: Double]

  public static func metropolisHastings(node: Int, degree: Int, neighbourDegrees: [Int: Int]) -> MixingWeights {
    var weights: [Int: Double] = [:]
    var total = 0.0
    // Sum in uid order so the float result does not depend on dictionary order.
    for uid in neighbourDegrees.keys.sorted() {
      let w = 1.0 / Double(1 + max(degree, neighbourDegrees[uid]!))
      weights[uid] = w
      total += w
    }
    return MixingWeights(selfWeight: 1 - total, weights: weights)
  }
}
