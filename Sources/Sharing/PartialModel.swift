import Numerics

/// decentralizepy's `PartialModel` (and, with a per-round alpha, `RandomAlpha`): each round the
/// fraction `alpha` of the parameters that changed most goes out, with their indices.
///
/// "Changed" is measured from the model as it was after the last averaging (decentralizepy's
/// `init_model`, the initial model before the first). With `accumulation` each parameter's
/// change is summed over the rounds since it was last shared and that sum reset when it is;
/// `accumulate_averaging_changes` adds what averaging changed to the sum too, exactly as
/// decentralizepy does it (this round's own change is ranked on top of the sum, and the sum
/// picks up the whole step from one averaged model to the next). `alpha ≥ metadata_cap`
/// sends the whole model and resets every sum.
///
/// The top `alpha·P` (rounded half to even, as Python's `round`) are found by quickselect in
/// O(P) and gathered straight from the parameter vector into a reused workspace: no sort, no
/// copy of the whole model, no allocation per round.
public final class PartialModel: SharingStrategy {
  public let name: String
  public let parameterCount: Int
  private let alphas: [Double]
  private let randomness: SharingRandomness?
  private let accumulation: Bool
  private let accumulateAveragingChanges: Bool
  private let metadataCap: Double
  public let partialAveraging: PartialAveraging
  private let compressor: ZstdCompressor?
  /// The model after the last averaging.
  private let reference: FloatBuffer
  /// Change not yet shared, per parameter (with `accumulation`).
  let accumulated: FloatBuffer?
  private var selection: TopSelection
  private var indexWorkspace: [UInt32] = []
  private var valueWorkspace: [Float] = []

  /// PartialModel at `settings.alpha`, or RandomAlpha drawing from `randomAlphas` each round
  /// with the node's sharing stream.
  public init(_ settings: SharingSettings, initialModel: FloatBuffer, randomAlphas: [Double]? = nil)
    throws(SharingError)
  {
    try settings.validate()
    name = randomAlphas == nil ? "PartialModel" : "RandomAlpha"
    parameterCount = initialModel.count
    alphas = randomAlphas ?? [settings.alpha]
    guard !alphas.isEmpty else { throw .invalidSetting(key: "alpha_list", message: "must list at least one fraction") }
    randomness = randomAlphas == nil ? nil : SharingRandomness(seed: settings.seed, uid: settings.uid)
    accumulation = settings.accumulation
    accumulateAveragingChanges = settings.accumulation && settings.accumulateAveragingChanges
    metadataCap = settings.metadataCap
    partialAveraging = settings.partialAveraging ?? .renormalize
    compressor = settings.compress ? ZstdCompressor() : nil
    reference = FloatBuffer(count: parameterCount)
    reference.copy(from: initialModel)
    accumulated = settings.accumulation ? FloatBuffer(count: parameterCount) : nil
    selection = TopSelection(capacity: parameterCount)
  }

  /// The fraction shared in `round`.
  public func alpha(forRound round: Int) -> Double {
    guard let randomness, alphas.count > 1 else { return alphas[0] }
    var rng = randomness.generator(round: round)
    return alphas[rng.nextInt(below: alphas.count)]
  }

  public func makeShares(of parameters: FloatBuffer, round: Int, recipients: [Int]) -> [OutgoingShare] {
    precondition(parameters.count == parameterCount, "PartialModel: model size changed")
    let alpha = alpha(forRound: round)
    let k = Int((alpha * Double(parameterCount)).rounded(.toNearestOrEven))
    var share: Share
    if alpha >= metadataCap || k >= parameterCount {
      accumulated?.zero()
      share = Share(dense: parameters.array)
    } else {
      select(k, from: parameters)
      share = Share(indices: indexWorkspace, values: valueWorkspace, parameterCount: parameterCount)
      if share.indexCode.bytes + 4 * k >= 4 * parameterCount {
        // The indices would cost more than they save: everything goes, so nothing stays pending.
        accumulated?.zero()
        share = Share(dense: parameters.array)
      }
    }
    if let compressor { share.compressValues(with: compressor) }
    return [OutgoingShare(share: share, recipients: recipients)]
  }

  /// Fills the workspaces with the k largest |change| and resets their accumulated sums.
  private func select(_ k: Int, from parameters: FloatBuffer) {
    let n = parameterCount
    let x = parameters.pointer
    let ref = reference.pointer
    let acc = accumulated?.pointer
    let onTop = accumulateAveragingChanges
    // Without accumulate_averaging_changes this round's change joins the sum before ranking.
    if let acc, !onTop { for i in 0..<n { acc[i] += x[i] - ref[i] } }
    // Local arrays, moved out of the properties: no exclusivity check per element.
    var indices: [UInt32] = []
    var values: [Float] = []
    swap(&indices, &indexWorkspace)
    swap(&values, &valueWorkspace)
    switch (acc, onTop) {
    case (nil, _): selection.select(k, of: n, into: &indices) { abs(x[$0] - ref[$0]) }
    case (let acc?, false): selection.select(k, of: n, into: &indices) { abs(acc[$0]) }
    case (let acc?, true): selection.select(k, of: n, into: &indices) { abs((x[$0] - ref[$0]) + acc[$0]) }
    }
    values.removeAll(keepingCapacity: true)
    values.reserveCapacity(indices.count)
    for i in indices { values.append(x[Int(i)]) }
    if let acc { for i in indices { acc[Int(i)] = 0 } }
    swap(&indices, &indexWorkspace)
    swap(&values, &valueWorkspace)
  }

  public func average(
    own: FloatBuffer, selfWeight: Double, received: [(sender: Int, share: Share, weight: Double)],
    using aggregator: Aggregator
  ) -> AveragingReport {
    let report = aggregator.average(own: own, selfWeight: selfWeight, received: received, rule: partialAveraging)
    if accumulateAveragingChanges, let acc = accumulated?.pointer {
      let x = own.pointer
      let ref = reference.pointer
      for i in 0..<parameterCount { acc[i] += x[i] - ref[i] }
    }
    reference.copy(from: own)
    return report
  }

  public func checkpointState() -> [UInt8] {
    var w = StateWriter(strategy: name)
    w.vector(reference)
    w.bool(accumulated != nil)
    if let accumulated { w.vector(accumulated) }
    return w.bytes
  }

  public func restoreState(_ bytes: [UInt8]) throws(SharingError) {
    var r = try StateReader(bytes, strategy: name)
    let restoredReference = try r.vector(count: parameterCount, "the reference model")
    let hasAccumulator = try r.bool("the accumulation flag")
    guard hasAccumulator == (accumulated != nil) else {
      throw .checkpointMismatch(expected: "accumulation \(accumulated != nil)", found: "accumulation \(hasAccumulator)")
    }
    let restoredAccumulator = try hasAccumulator ? r.vector(count: parameterCount, "the accumulator") : nil
    try r.finish()
    reference.copy(from: restoredReference)
    if let restoredAccumulator { accumulated?.copy(from: restoredAccumulator) }
  }
}
