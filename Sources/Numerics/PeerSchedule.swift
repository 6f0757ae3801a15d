/// Draws that any node can recompute for any other: uids chosen by `node` in `round`, from a
/// stream that depends only on the run's seed, the node and the round.
///
/// Epidemic Learning uses it so that a receiver knows who sends to it in a round without a
/// message: every node computes every other node's targets. The stream has its own name, so it
/// shifts no other stream.
public struct PeerSchedule: Sendable {
  public let seed: UInt64
  public static let streamName = "peer-schedule"

  public init(seed: UInt64) { self.seed = seed }

  /// `count` distinct entries of `candidates` (all of them if fewer), in the order drawn.
  public func draw(_ count: Int, from candidates: [Int], node: Int, round: Int) -> [Int] {
    let n = min(count, candidates.count)
    guard n > 0 else { return [] }
    // (node, round) packed into the stream index; both fit 32 bits (the wire caps rounds at 2³¹).
    let index = UInt64(UInt32(truncatingIfNeeded: node)) << 32 | UInt64(UInt32(truncatingIfNeeded: round))
    var rng = RandomStreams(seed: seed).stream(Self.streamName, index: index)
    return rng.sample(n, from: candidates.count).map { candidates[$0] }
  }
}
