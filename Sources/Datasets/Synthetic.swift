import Numerics

#if canImport(Glibc)
  import Glibc
#endif

/// In-process synthetic data: the embedded default that needs no files.
///
/// - `gaussian`: an IID Gaussian mixture. Class means are drawn once from the seed and shared by
///   every node; a global training pool of `samplesPerNode × nodes` samples is generated and then
///   partitioned like any dataset (so non-IID schemes apply), and a test set of `testSamples` is
///   drawn from the same mixture.
/// - `leaf`: LEAF/FedProx Synthetic(α, β): node k draws u_k ~ N(0, α), B_k ~ N(0, β), a model
///   W_k, b_k ~ N(u_k, 1), features x ~ N(v_k, Σ) with v_k ~ N(B_k, 1) and Σ = diag(j^−1.2), and
///   labels y = argmax(W_k x + b_k). Data is heterogeneous by construction, one distribution per
///   node; the test set is the union of a held-out part of every node's distribution.
public struct SyntheticSettings: Sendable, Equatable {
  public enum Kind: String, Sendable { case gaussian, leaf }
  public var kind: Kind = .gaussian
  public var alpha: Double = 1
  public var beta: Double = 1
  public var dimension: Int = 60
  public var classes: Int = 10
  public var samplesPerNode: Int = 500
  public var testSamples: Int = 2000
  /// Distance scale of the Gaussian class means (smaller is harder).
  public var separation: Double = 0.35
  public init() {}
}

enum SyntheticGenerator {
  /// Gaussian mixture: (pool, test).
  static func gaussian(_ s: SyntheticSettings, nodes: Int, streams: RandomStreams) -> (DenseSource, DenseSource) {
    var meansRNG = streams.stream(.synthetic, index: 0)
    let means = (0..<(s.classes * s.dimension)).map { _ in Float(s.separation * meansRNG.normal()) }
    func draw(_ count: Int, _ rng: inout Xoshiro256) -> DenseSource {
      var features = [Float](repeating: 0, count: count * s.dimension)
      var labels = [Int32](repeating: 0, count: count)
      for i in 0..<count {
        let c = rng.nextInt(below: s.classes)
        labels[i] = Int32(c)
        for d in 0..<s.dimension { features[i * s.dimension + d] = means[c * s.dimension + d] + Float(rng.normal()) }
      }
      return DenseSource(features: features, labels: labels, inputShape: [s.dimension], classCount: s.classes)
    }
    var poolRNG = streams.stream(.synthetic, index: 1)
    var testRNG = streams.stream(.synthetic, index: 2)
    return (draw(s.samplesPerNode * nodes, &poolRNG), draw(s.testSamples, &testRNG))
  }

  /// LEAF Synthetic(α, β): node `node`'s training samples, and the shared test set.
  static func leaf(_ s: SyntheticSettings, node: Int, nodes: Int, streams: RandomStreams) -> (DenseSource, DenseSource)
  {
    let testPerNode = max(1, s.testSamples / nodes)
    func distribution(_ k: Int, count: Int, offset: Int) -> ([Float], [Int32]) {
      var rng = streams.stream(.synthetic, index: UInt64(10 + k))
      let u = s.alpha * rng.normal()
      let bk = s.beta * rng.normal()
      let w = (0..<(s.classes * s.dimension)).map { _ in u + rng.normal() }
      let b = (0..<s.classes).map { _ in u + rng.normal() }
      let v = (0..<s.dimension).map { _ in bk + rng.normal() }
      let sd = (0..<s.dimension).map { pow(Double($0 + 1), -0.6) }  // Σ_jj = j^-1.2
      var sampleRNG = streams.stream("synthetic-samples", index: UInt64(k) << 1 | UInt64(offset))
      var features: [Float] = []
      var labels: [Int32] = []
      for _ in 0..<count {
        let x = (0..<s.dimension).map { v[$0] + sd[$0] * sampleRNG.normal() }
        var best = 0
        var bestScore = -Double.infinity
        for c in 0..<s.classes {
          var score = b[c]
          for d in 0..<s.dimension { score += w[c * s.dimension + d] * x[d] }
          if score > bestScore {
            bestScore = score
            best = c
          }
        }
        features += x.map(Float.init)
        labels.append(Int32(best))
      }
      return (features, labels)
    }
    let (trainX, trainY) = distribution(node, count: s.samplesPerNode, offset: 0)
    var testX: [Float] = []
    var testY: [Int32] = []
    for k in 0..<nodes {
      let (x, y) = distribution(k, count: testPerNode, offset: 1)
      testX += x
      testY += y
    }
    return (
      DenseSource(features: trainX, labels: trainY, inputShape: [s.dimension], classCount: s.classes),
      DenseSource(features: testX, labels: testY, inputShape: [s.dimension], classCount: s.classes)
    )
  }
}
