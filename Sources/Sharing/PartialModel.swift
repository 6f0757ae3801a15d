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
  private let rule: PartialAveraging
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
    rule = settings.partialAveraging
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
    indexWorkspace.removeAll(keepingCapacity: true)
    valueWorkspace.removeAll(keepingCapacity: true)
    guard k > 0 else {
      if let acc, !onTop { for i in 0..<n { acc[i] += x[i] - ref[i] } }
      return
    }
    // Pass 1: the change, summed into the accumulator unless it is ranked on top of it.
    var cutoff = selection.cutoff(count: k, of: n) { magnitude in
      switch (acc, onTop) {
      case (nil, _):
        for i in 0..<n { magnitude[i] = abs(x[i] - ref[i]) }
      case (let acc?, false):
        for i in 0..<n {
          acc[i] += x[i] - ref[i]
          magnitude[i] = abs(acc[i])
        }
      case (let acc?, true):
        for i in 0..<n { magnitude[i] = abs((x[i] - ref[i]) + acc[i]) }
      }
    }
    indexWorkspace.reserveCapacity(k)
    valueWorkspace.reserveCapacity(k)
    // Pass 2: the same magnitudes again, in index order, taking what the cutoff admits.
    func collect(_ magnitude: (Int) -> Float) {
      for i in 0..<n where cutoff.admits(magnitude(i)) {
        indexWorkspace.append(UInt32(i))
        valueWorkspace.append(x[i])
        acc?[i] = 0
      }
    }
    switch (acc, onTop) {
    case (nil, _): collect { abs(x[$0] - ref[$0]) }
    case (let acc?, false): collect { abs(acc[$0]) }
    case (let acc?, true): collect { abs((x[$0] - ref[$0]) + acc[$0]) }
    }
  }

  public func average(
    own: FloatBuffer, selfWeight: Double, received: [(sender: Int, share: Share, weight: Double)],
    using aggregator: Aggregator
  ) -> AveragingReport {
    let report = aggregator.average(own: own, selfWeight: selfWeight, received: received, rule: rule)
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
