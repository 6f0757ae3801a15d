import Numerics

/// Maps `sharing_class` names to strategies: the one place a name is registered (a `Registry`:
/// case, `-` and `_` do not matter, and the "supported" list of an error comes from the same
/// entries). Adding a strategy is one file and one entry here.
///
/// decentralizepy configs resolve by class name: `decentralizepy.sharing.PartialModel` +
/// `PartialModel` is the entry `PartialModel`.
public enum SharingRegistry {
  /// Builds a strategy for a model whose initial parameters are the buffer (the reference
  /// PartialModel and TopK measure change from; copied, not kept).
  public typealias Maker = @Sendable (SharingSettings, FloatBuffer) throws -> any SharingStrategy

  public static let registry = Registry<Maker>(
    kind: "[SHARING] sharing_class",
    [
      .init("Sharing", aliases: ["FullSharing", "Full"]) { s, _ in
        try s.validate()
        return FullSharing(s)
      },
      .init("PartialModel") { s, model in try PartialModel(s, initialModel: model) },
      .init("RandomAlpha") { s, model in
        try PartialModel(
          s, initialModel: model, randomAlphas: s.alphaList.isEmpty ? SharingSettings.defaultAlphaList : s.alphaList)
      },
      .init("SubSampling") { s, model in try SubSampling(s, parameterCount: model.count) },
      .init("TopK") { s, model in try TopK(s, initialModel: model) },
      .init("Quantize", aliases: ["Quantization"]) { s, model in
        try Quantize(s, parameterCount: model.count)
      },
      .init("Choco") { s, model in
        try Quantize(s, parameterCount: model.count, name: "Choco", defaultBits: 32)
      },
    ])

  /// The canonical names.
  public static var names: [String] { registry.names }

  /// The strategy `settings.name` names, for a model whose initial parameters are `initialModel`.
  public static func make(_ settings: SharingSettings, initialModel: FloatBuffer) throws -> any SharingStrategy {
    let entry = try registry.resolve(settings.name)
    var s = settings
    s.name = entry.name
    return try entry.make(s, initialModel)
  }
}
