import Numerics
import Transport

/// The parts of the algorithm context that the random walk, SwarmAvg, FedAvg and Epidemic
/// Learning added to the seam: schedules any node can recompute, peer states, giving up, and the
/// per-round record of ages.
extension Node {
  public func scheduledPeers(_ count: Int, from candidates: [Int], node: Int, round: Int) -> [Int] {
    PeerSchedule(seed: plan.seed).draw(count, from: candidates, node: node, round: round)
  }

  public func peerState(_ uid: Int) -> PeerTable.State { peers.state(of: uid) }

  public func abandonRun(_ why: String) {
    guard abandonedBecause == nil else { return }
    abandonedBecause = why
    log.error("round \(currentRound): giving up the run: \(why)")
  }

  public func recordAges(own: Double, mixed: [Int: Double]) {
    let r = currentRound
    results.update {
      $0.ownAge[r] = own
      $0.mixedAges[r] = mixed.keys.sorted().map { mixed[$0]! }
    }
  }
}
