/// What a sharing strategy may read; the Learning layer fills it from `[SHARING]`
/// (docs/configuration.md documents every key).
public struct SharingSettings: Sendable, Equatable {
  /// `sharing_class`, resolved by `SharingRegistry`.
  public var name: String
  /// Fraction of the parameters shared each round (PartialModel, SubSampling, TopK, and the
  /// TopK part of Quantize), in (0, 1].
  public var alpha: Double
  /// RandomAlpha's fractions, one drawn per round; empty means decentralizepy's default.
  public var alphaList: [Double]
  /// PartialModel: rank by the change accumulated since each parameter was last shared,
  /// instead of this round's change alone.
  public var accumulation: Bool
  /// PartialModel with `accumulation`: accumulate what averaging changed too.
  public var accumulateAveragingChanges: Bool
  /// A fraction at or above this sends the whole model instead (above it, for SubSampling).
  public var metadataCap: Double
  /// zstd on the values section of every share.
  public var compress: Bool
  /// Quantize: 8, 4 or 1 bit per value, or 32 for float32 values (Choco). nil: the strategy's default.
  public var bits: Int?
  /// Quantize: values per quantization scale.
  public var blockSize: Int
  /// Quantize: CHOCO's consensus step γ in (0, 1]. nil: the default for `bits`.
  public var stepSize: Double?
  /// How partial shares are averaged; nil: the strategy's default (`SubSampling` averages the
  /// senders of a parameter as a sample of all neighbours, `neighbourMean`; the rest
  /// `renormalize`).
  public var partialAveraging: PartialAveraging?
  /// Seed of the run, from which the sharing stream of each node is derived.
  public var seed: UInt64
  /// This node's uid, to derive its own sharing stream and to read resend requests.
  public var uid: Int

  /// decentralizepy's RandomAlpha default.
  public static let defaultAlphaList = [0.1, 0.2, 0.3, 0.4, 1.0]
  public static let defaultBlockSize = 256

  public init(
    name: String, alpha: Double = 1, alphaList: [Double] = [], accumulation: Bool = false,
    accumulateAveragingChanges: Bool = false, metadataCap: Double = 1, compress: Bool = false, bits: Int? = nil,
    blockSize: Int = SharingSettings.defaultBlockSize, stepSize: Double? = nil,
    partialAveraging: PartialAveraging? = nil, seed: UInt64 = 0, uid: Int = 0
  ) {
    self.name = name
    self.alpha = alpha
    self.alphaList = alphaList
    self.accumulation = accumulation
    self.accumulateAveragingChanges = accumulateAveragingChanges
    self.metadataCap = metadataCap
    self.compress = compress
    self.bits = bits
    self.blockSize = blockSize
    self.stepSize = stepSize
    self.partialAveraging = partialAveraging
    self.seed = seed
    self.uid = uid
  }

  /// The same checks as the config reader makes, for settings built in code.
  public func validate() throws(SharingError) {
    guard alpha > 0 && alpha <= 1 else {
      throw .invalidSetting(key: "alpha", message: "must be in (0, 1], got \(alpha)")
    }
    for a in alphaList where !(a > 0 && a <= 1) {
      throw .invalidSetting(key: "alpha_list", message: "every fraction must be in (0, 1], got \(a)")
    }
    guard metadataCap > 0 else {
      throw .invalidSetting(key: "metadata_cap", message: "must be positive, got \(metadataCap)")
    }
    if let bits, !(QuantizedValues.supportedBits + [32]).contains(bits) {
      throw .invalidSetting(key: "bits", message: "must be 8, 4, 1 or 32, got \(bits)")
    }
    guard blockSize >= 1 && blockSize <= QuantizedValues.maximumBlockSize else {
      throw .invalidSetting(key: "block_size", message: "must be in 1…16777216, got \(blockSize)")
    }
    if let stepSize, !(stepSize > 0 && stepSize <= 1) {
      throw .invalidSetting(key: "step_size", message: "must be in (0, 1], got \(stepSize)")
    }
    guard uid >= 0 && uid <= Int(UInt32.max) else { throw .invalidSetting(key: "uid", message: "out of range") }
  }
}

/// Why a strategy could not be made, a share was refused, or a checkpoint could not be restored.
public enum SharingError: Error, Equatable, Sendable, CustomStringConvertible {
  case unknownStrategy(name: String, supported: [String])
  case invalidSetting(key: String, message: String)
  /// A layout this strategy cannot average (a CHOCO share at a PartialModel node, say): the
  /// nodes of a run disagree on `[SHARING]`.
  case unsupportedShare(strategy: String, encoding: ShareEncoding)
  /// A CHOCO delta for another state of the sender's public copy than the one held (a frame was
  /// lost, or one side restarted). The receiver asks the sender for a keyframe in its next share.
  case publicCopyOutOfSync(sender: Int, holding: UInt32?, base: UInt32)
  /// A CHOCO update drove the sender's public copy to NaN or infinity; the copy is dropped.
  case publicCopyNotFinite(sender: Int)
  case checkpointMismatch(expected: String, found: String)
  case checkpointCorrupt(String)

  public var description: String {
    switch self {
    case .unknownStrategy(let name, let supported):
      return "unknown sharing_class '\(name)'; supported: \(supported.joined(separator: ", "))"
    case .invalidSetting(let key, let message): return "[SHARING] \(key): \(message)"
    case .unsupportedShare(let strategy, let encoding):
      return "\(strategy) cannot average a \(encoding) share (do all nodes use the same [SHARING]?)"
    case .publicCopyOutOfSync(let sender, let holding, let base):
      let held = holding.map { "state \($0)" } ?? "no copy"
      return "delta from \(sender) applies to state \(base) of its public copy, this node holds \(held)"
    case .publicCopyNotFinite(let sender): return "the public copy of \(sender) is no longer finite"
    case .checkpointMismatch(let expected, let found):
      return "checkpoint holds \(found) sharing state, this node runs \(expected)"
    case .checkpointCorrupt(let why): return "sharing checkpoint is corrupt: \(why)"
    }
  }
}
