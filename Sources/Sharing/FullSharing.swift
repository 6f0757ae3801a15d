import Numerics

/// decentralizepy's `Sharing`: the whole parameter vector, every round, to everyone.
///
/// Without compression the runtime never calls `makeShares`: it frames the parameter bytes
/// itself, one copy into the frame that every neighbour's queue then shares.
public final class FullSharing: SharingStrategy {
  public let name = "Sharing"
  private let compressor: ZstdCompressor?
  public let partialAveraging: PartialAveraging

  public init(_ settings: SharingSettings = SharingSettings(name: "Sharing")) {
    compressor = settings.compress ? ZstdCompressor() : nil
    partialAveraging = settings.partialAveraging ?? .renormalize
  }

  public var sharesWholeModel: Bool { compressor == nil }

  public func makeShares(of parameters: FloatBuffer, round: Int, recipients: [Int]) -> [OutgoingShare] {
    var share = Share(dense: parameters.array)
    if let compressor { share.compressValues(with: compressor) }
    return [OutgoingShare(share: share, recipients: recipients)]
  }

  public func checkpointState() -> [UInt8] { StateWriter(strategy: name).bytes }

  public func restoreState(_ bytes: [UInt8]) throws(SharingError) {
    try StateReader(bytes, strategy: name).finish()
  }
}
