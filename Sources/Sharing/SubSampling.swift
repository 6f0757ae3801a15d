import Numerics

/// decentralizepy's `SubSampling`: a random fraction `alpha` of the parameters each round, sent
/// with the seed of its mask instead of its indices (8 bytes of metadata, whatever alpha).
///
/// The mask has exactly round(alpha·P) entries (`SeededMask`); its seed comes from the node's
/// `sharing` stream of `random_seed` and the round, so a run is repeatable and a receiver
/// rebuilds the mask from the seed and the value count alone. decentralizepy seeds from the OS
/// and draws a Bernoulli mask, so its count varies around alpha·P. `alpha > metadata_cap` sends
/// the whole model (decentralizepy's test for SubSampling is strict, unlike PartialModel's).
/// Received shares are averaged with `partial_averaging = neighbour_mean` unless the config says
/// otherwise: a random mask's senders stand for all the neighbours (`PartialAveraging`).
public final class SubSampling: SharingStrategy {
  public let name = "SubSampling"
  public let parameterCount: Int
  private let alpha: Double
  private let metadataCap: Double
  public let partialAveraging: PartialAveraging
  private let randomness: SharingRandomness
  private let compressor: ZstdCompressor?
  private var indexWorkspace: [UInt32] = []
  private var valueWorkspace: [Float] = []

  public init(_ settings: SharingSettings, parameterCount: Int) throws(SharingError) {
    try settings.validate()
    self.parameterCount = parameterCount
    alpha = settings.alpha
    metadataCap = settings.metadataCap
    partialAveraging = settings.partialAveraging ?? .neighbourMean
    randomness = SharingRandomness(seed: settings.seed, uid: settings.uid)
    compressor = settings.compress ? ZstdCompressor() : nil
  }

  /// The mask seed of `round`.
  public func seed(forRound round: Int) -> UInt64 {
    var rng = randomness.generator(round: round)
    return rng.next()
  }

  public func makeShares(of parameters: FloatBuffer, round: Int, recipients: [Int]) -> [OutgoingShare] {
    precondition(parameters.count == parameterCount, "SubSampling: model size changed")
    let k = Int((alpha * Double(parameterCount)).rounded(.toNearestOrEven))
    var share: Share
    if alpha > metadataCap || k >= parameterCount {
      share = Share(dense: parameters.array)
    } else {
      let seed = seed(forRound: round)
      SeededMask.fill(&indexWorkspace, seed: seed, count: k, parameterCount: parameterCount)
      valueWorkspace.removeAll(keepingCapacity: true)
      valueWorkspace.reserveCapacity(k)
      let x = parameters.pointer
      for i in indexWorkspace { valueWorkspace.append(x[Int(i)]) }
      share = Share(seed: seed, indices: indexWorkspace, values: valueWorkspace, parameterCount: parameterCount)
    }
    if let compressor { share.compressValues(with: compressor) }
    return [OutgoingShare(share: share, recipients: recipients)]
  }

  /// Masks depend only on (seed, uid, round): there is nothing else to keep.
  public func checkpointState() -> [UInt8] { StateWriter(strategy: name).bytes }

  public func restoreState(_ bytes: [UInt8]) throws(SharingError) {
    try StateReader(bytes, strategy: name).finish()
  }
}
