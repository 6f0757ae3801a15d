import Numerics

/// Maps `sharing_class` names to strategies: the one place a name is registered. Adding a
/// strategy is one file and one entry here; every list of names (the config check, the
/// "supported" list of an error) is derived from `entries`.
///
/// decentralizepy configs resolve by class name: `decentralizepy.sharing.PartialModel` +
/// `PartialModel` is the entry `PartialModel`.
public enum SharingRegistry {
  public struct Entry: Sendable {
    /// The canonical name, the one a strategy reports.
    public let name: String
    public let aliases: [String]
    let make: @Sendable (SharingSettings, FloatBuffer) throws(SharingError) -> any SharingStrategy
  }

  public static let entries: [Entry] = [
    Entry(name: "Sharing", aliases: ["FullSharing", "Full"]) { s, _ throws(SharingError) in
      try s.validate()
      return FullSharing(s)
    },
    Entry(name: "PartialModel", aliases: []) { s, model throws(SharingError) in
      try PartialModel(s, initialModel: model)
    },
    Entry(name: "RandomAlpha", aliases: []) { s, model throws(SharingError) in
      try PartialModel(
        s, initialModel: model, randomAlphas: s.alphaList.isEmpty ? SharingSettings.defaultAlphaList : s.alphaList)
    },
    Entry(name: "SubSampling", aliases: []) { s, model throws(SharingError) in
      try SubSampling(s, parameterCount: model.count)
    },
    Entry(name: "TopK", aliases: []) { s, model throws(SharingError) in try TopK(s, initialModel: model) },
    Entry(name: "Quantize", aliases: ["Quantization"]) { s, model throws(SharingError) in
      try Quantize(s, parameterCount: model.count)
    },
    Entry(name: "Choco", aliases: []) { s, model throws(SharingError) in
      try Quantize(s, parameterCount: model.count, name: "Choco", defaultBits: 32)
    },
  ]

  /// Every name a config may use, canonical names first.
  public static var names: [String] { entries.map(\.name) + entries.flatMap(\.aliases) }

  public static func entry(named name: String) -> Entry? {
    entries.first { $0.name == name || $0.aliases.contains(name) }
  }

  /// The strategy `settings.name` names, for a model whose initial parameters are `initialModel`
  /// (the reference PartialModel and TopK measure change from; copied, not kept).
  public static func make(_ settings: SharingSettings, initialModel: FloatBuffer) throws(SharingError)
    -> any SharingStrategy
  {
    guard let entry = entry(named: settings.name) else {
      throw .unknownStrategy(name: settings.name, supported: entries.map(\.name))
    }
    return try entry.make(settings, initialModel)
  }
}
