import Numerics

/// The fraction `alpha` of the parameters whose value moved most, in magnitude, since they were
/// last shared; each is sent with its current value and its index.
///
/// The sender keeps, per parameter, the value it last sent (the initial model before the first
/// round) and ranks |x − last sent|, so a parameter that drifts slowly is sent once its drift
/// adds up, whatever mixture of training and averaging caused it. (PartialModel ranks only the
/// change since the last averaging unless `accumulation` is on.) Selection is the same O(P)
/// quickselect; `alpha ≥ metadata_cap` sends the whole model.
public final class TopK: SharingStrategy {
  public let name = "TopK"
  public let parameterCount: Int
  private let alpha: Double
  private let metadataCap: Double
  public let partialAveraging: PartialAveraging
  private let compressor: ZstdCompressor?
  private let lastShared: FloatBuffer
  private var selection: TopSelection
  private var indexWorkspace: [UInt32] = []
  private var valueWorkspace: [Float] = []

  public init(_ settings: SharingSettings, initialModel: FloatBuffer) throws(SharingError) {
    try settings.validate()
    parameterCount = initialModel.count
    alpha = settings.alpha
    metadataCap = settings.metadataCap
    partialAveraging = settings.partialAveraging ?? .renormalize
    compressor = settings.compress ? ZstdCompressor() : nil
    lastShared = FloatBuffer(count: parameterCount)
    lastShared.copy(from: initialModel)
    selection = TopSelection(capacity: parameterCount)
  }

  public func makeShares(of parameters: FloatBuffer, round: Int, recipients: [Int]) -> [OutgoingShare] {
    precondition(parameters.count == parameterCount, "TopK: model size changed")
    let n = parameterCount
    let k = Int((alpha * Double(n)).rounded(.toNearestOrEven))
    var share: Share
    if alpha >= metadataCap || k >= n {
      lastShared.copy(from: parameters)
      share = Share(dense: parameters.array)
    } else {
      let x = parameters.pointer
      let last = lastShared.pointer
      var indices: [UInt32] = []
      var values: [Float] = []
      swap(&indices, &indexWorkspace)
      swap(&values, &valueWorkspace)
      selection.select(k, of: n, into: &indices) { abs(x[$0] - last[$0]) }
      values.removeAll(keepingCapacity: true)
      values.reserveCapacity(indices.count)
      for i in indices {
        values.append(x[Int(i)])
        last[Int(i)] = x[Int(i)]
      }
      swap(&indices, &indexWorkspace)
      swap(&values, &valueWorkspace)
      share = Share(indices: indexWorkspace, values: valueWorkspace, parameterCount: n)
      if share.indexCode.bytes + 4 * k >= 4 * n {
        lastShared.copy(from: parameters)
        share = Share(dense: parameters.array)
      }
    }
    if let compressor { share.compressValues(with: compressor) }
    return [OutgoingShare(share: share, recipients: recipients)]
  }

  public func checkpointState() -> [UInt8] {
    var w = StateWriter(strategy: name)
    w.vector(lastShared)
    return w.bytes
  }

  public func restoreState(_ bytes: [UInt8]) throws(SharingError) {
    var r = try StateReader(bytes, strategy: name)
    let restored = try r.vector(count: parameterCount, "the last shared values")
    try r.finish()
    lastShared.copy(from: restored)
  }
}
