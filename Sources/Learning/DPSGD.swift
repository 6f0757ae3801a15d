import Numerics
import Sharing
import Topology

/// Decentralized parallel SGD with Metropolis–Hastings mixing (seed 001, §3.2.1).
///
/// Each round: train locally, send the share to every live neighbour with this node's degree,
/// wait (bounded by `peer_timeout`) for the same round from every live neighbour, then average
/// with w_ij = 1/(1+max(d_i, d_j)), w_ii = 1 − Σ w_ij, over the neighbours that actually sent.
/// Messages of later rounds are buffered; messages of finished rounds are dropped.
public final class DPSGD: Algorithm {
  public static let name = "dpsgd"

  /// Shares received, by round, then by sender.
  private var inbox: [Int: [Int: ModelMessage]] = [:]
  private var round = 0

  public init() {}

  public func receive(_ message: ModelMessage, node: Node) -> Bool {
    guard message.round > round || (message.round == round && !averaged) else {
      node.log.debug("dropping stale round \(message.round) model from \(message.sender) (now \(round))")
      return false
    }
    inbox[message.round, default: [:]][message.sender] = message
    return true
  }

  private var averaged = false

  public func runIteration(node: Node) throws -> Bool {
    round += 1
    averaged = false
    let trainLoss = node.trainer.train(node: node)

    let degree = node.peers.liveDegree
    let outgoing: [(PeerLink.EncodedModel, [Int])]
    if node.sharing.sharesWholeModel {
      outgoing = [(node.link.encodeDenseModel(node.model.parameters, round: round, degree: degree), node.peers.live)]
    } else {
      outgoing = node.sharing.makeShares(of: node.model.parameters, round: round, recipients: node.peers.live).map {
        (node.link.encodeModel($0.share, round: round, degree: degree), $0.recipients)
      }
    }
    for (encoded, peers) in outgoing {
      for peer in peers where !node.link.send(encoded, to: peer) {
        node.log.warning("could not queue round \(round) model for \(peer)")
        node.sharing.peerReset(peer)
      }
    }

    let r = round
    node.wait(for: "round \(r) models") { [self] in
      node.peers.live.allSatisfy { inbox[r]?[$0] != nil }
    }

    // Average over every neighbour whose share for this round arrived, in uid order.
    let received = (inbox[r] ?? [:]).values.sorted { $0.sender < $1.sender }
    // This round's degree is the number of neighbours that took part in it: every live one has
    // delivered once the wait ends, and a neighbour that delivered and then left (BYE after its
    // last round) still counts. Using the live count here would make the weights depend on
    // whether a BYE happened to arrive before this line.
    let myDegree = received.count
    var neighbourDegrees: [Int: Int] = [:]
    for m in received { neighbourDegrees[m.sender] = m.degree }
    let weights = MixingWeights.metropolisHastings(
      node: node.uid, degree: myDegree, neighbourDegrees: neighbourDegrees)
    let report = node.sharing.average(
      own: node.model.parameters, selfWeight: weights.selfWeight,
      received: received.map { ($0.sender, $0.share, weights.weights[$0.sender] ?? 0) }, using: node.aggregator)
    for (sender, ignored) in report.ignoredValues.sorted(by: { $0.key < $1.key }) {
      node.log.warning("ignored \(ignored) NaN or infinite values in the round \(r) model from \(sender)")
      node.link.recordRejection("non-finite values from \(sender)")
    }
    inbox[r] = nil
    averaged = true
    if node.plan.resetOptimizer { node.optimizer.reset() }

    node.completedRound(round, trainLoss: trainLoss, mixedWith: received.map(\.sender))
    return round < node.plan.iterations
  }
}
