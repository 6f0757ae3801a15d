import Numerics

/// Decides what part of a model goes on the wire each round (decentralizepy's `sharing` package).
///
/// A strategy is chosen by name from `[SHARING] sharing_class` through `SharingRegistry`. It is
/// owned by one node loop and may keep state between rounds (for example the accumulated change
/// that PartialModel ranks by), so it is a class and not `Sendable`.
public protocol SharingStrategy: AnyObject {
  /// The registered name, e.g. `Sharing`.
  var name: String { get }

  /// Builds this round's share of `parameters`. `round` starts at 1.
  func makeShare(of parameters: FloatBuffer, round: Int) -> Share

  /// Regenerates the indices of a `.seeded` share (SubSampling); `nil` when the strategy does not
  /// use seeded shares.
  func indices(forSeed seed: UInt64, count: Int, parameterCount: Int) -> [Int]?

  /// Tells the strategy the model after averaging, so it can track what changed.
  func didAverage(_ parameters: FloatBuffer)

  /// True when every share is the whole vector, dense: the sender may then frame the parameter
  /// bytes directly instead of building a `Share` (one copy instead of three per round).
  var sharesWholeModel: Bool { get }
}

extension SharingStrategy {
  public func indices(forSeed seed: UInt64, count: Int, parameterCount: Int) -> [Int]? { nil }
  public func didAverage(_ parameters: FloatBuffer) {}
  public var sharesWholeModel: Bool { false }
}

/// decentralizepy's `Sharing`: the whole parameter vector, every round.
public final class FullSharing: SharingStrategy {
  public let name = "Sharing"
  public var sharesWholeModel: Bool { true }
  public init() {}

  public func makeShare(of parameters: FloatBuffer, round: Int) -> Share {
    Share(dense: parameters.array)
  }
}

/// Settings a sharing strategy may read; the Learning layer fills them from `[SHARING]`.
public struct SharingSettings: Sendable {
  public var name: String
  /// Fraction of the model to share (PartialModel, SubSampling).
  public var alpha: Double
  /// Fractions to draw from per round (RandomAlpha).
  public var alphaList: [Double]
  /// Seed of the run, from which the sharing stream of each node is derived.
  public var seed: UInt64
  /// This node's uid, to derive its own sharing stream.
  public var uid: Int

  public init(name: String, alpha: Double = 1, alphaList: [Double] = [], seed: UInt64 = 0, uid: Int = 0) {
    self.name = name
    self.alpha = alpha
    self.alphaList = alphaList
    self.seed = seed
    self.uid = uid
  }
}

/// An unknown or unusable sharing strategy name.
public struct SharingError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Maps `sharing_class` names to strategies. Adding a strategy is one file and one entry here;
/// names are registered once (see `Registry`).
public enum SharingRegistry {
  public static let registry = Registry<@Sendable (SharingSettings) throws -> any SharingStrategy>(
    kind: "[SHARING] sharing_class",
    [
      .init("Sharing", aliases: ["FullSharing", "Full"]) { _ in FullSharing() }
    ])

  /// The names this build supports.
  public static var names: [String] { registry.names }

  public static func make(_ settings: SharingSettings) throws -> any SharingStrategy {
    try registry.resolve(settings.name).make(settings)
  }
}
