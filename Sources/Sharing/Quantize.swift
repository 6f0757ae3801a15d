import Numerics

/// CHOCO-SGD (Koloskova, Stich and Jaggi, 2019): quantize what changed against the copy the
/// receivers already hold, not the model itself, so the error of one round is corrected by the
/// next and even 1 bit a parameter converges.
///
/// Every node keeps x̂, the public copy of itself its recipients hold, and a copy x̂ⱼ of each
/// neighbour. Each round it sends q = Q(x − x̂) (with `alpha < 1`, Q of the TopK of x − x̂),
/// and sender and receivers all apply x̂ += q, the same float operations on both sides, so the
/// copies stay bit-identical. Averaging is CHOCO's consensus step
/// x ← x + γ·Σⱼ wⱼ·(x̂ⱼ − x̂), the weights being the algorithm's, γ = `step_size`.
///
/// Copies start empty: the first share to each recipient is a keyframe (the copy as float32),
/// and so is the next one after `peerReset`, `shareUndelivered`, a restore, or a resend request. A receiver applies
/// a delta only to the copy state it names (`PublicCopyTag`); otherwise it refuses the share
/// with `SharingError.publicCopyOutOfSync` and lists the sender in the resend list of every
/// share it sends until the keyframe arrives (docs/algorithms.md, "Quantize").
///
/// Registered twice: `Quantize` (8 bits by default) and `Choco` (decentralizepy's class:
/// float32 TopK deltas, `bits = 32`).
public final class Quantize: SharingStrategy {
  public let name: String
  public let parameterCount: Int
  public let bits: Int
  public let blockSize: Int
  public let alpha: Double
  public let stepSize: Double
  private let uid: Int
  private let compressor: ZstdCompressor?
  let own: OwnPublicCopies
  let peers: PeerPublicCopies
  private var selection: TopSelection
  private var indexWorkspace: [UInt32] = []
  private var valueWorkspace: [Float] = []
  private var scaleWorkspace: [Float] = []
  private var codeWorkspace: [UInt8] = []
  /// The latest round `makeShares` was called for, and the round each recipient was last sent
  /// to: the copy of this node a sender holds is current only if it was sent to this round.
  private var latestRound = 0
  private var sentInRound: [Int: Int] = [:]

  /// γ when `step_size` is not given. Copies start from a keyframe, so deltas are small from
  /// the first round, and exact, 8- and 4-bit dense deltas take the full step. Measured on the
  /// 6-node in-process D-PSGD run and a 16-node gossip of drifting models: the sign code of
  /// 1 bit does best near 0.7 (1 drifts further apart under noise, 0.2 mixes slowly). TopK
  /// deltas (alpha < 1) leave copies behind by more the smaller alpha is, and the step must
  /// shrink with it: on 8 real nodes of a 4-regular graph (the embedded network, D-PSGD, 100
  /// rounds) the models drift apart from γ ≈ 5·alpha on (alpha 0.05 at 0.35, 0.1 at 0.7, 0.2 at
  /// 1; 0.1 at 0.5 already loses 1.4 points), and learn as well as full sharing at half that.
  public static func defaultStepSize(bits: Int, alpha: Double) -> Double {
    (bits == 1 ? 0.7 : 1) * min(1, 2.5 * alpha)
  }

  public init(_ settings: SharingSettings, parameterCount: Int, name: String = "Quantize", defaultBits: Int = 8)
    throws(SharingError)
  {
    try settings.validate()
    self.name = name
    self.parameterCount = parameterCount
    bits = settings.bits ?? defaultBits
    blockSize = settings.blockSize
    alpha = settings.alpha
    stepSize = settings.stepSize ?? Self.defaultStepSize(bits: bits, alpha: settings.alpha)
    uid = settings.uid
    compressor = settings.compress ? ZstdCompressor() : nil
    own = OwnPublicCopies(parameterCount: parameterCount)
    peers = PeerPublicCopies(parameterCount: parameterCount)
    selection = TopSelection(capacity: parameterCount)
  }

  /// Values selected per delta: alpha·P rounded half to even, or all of them.
  private var selectedCount: Int {
    let k = Int((alpha * Double(parameterCount)).rounded(.toNearestOrEven))
    return min(k, parameterCount)
  }

  public func makeShares(of parameters: FloatBuffer, round: Int, recipients: [Int]) -> [OutgoingShare] {
    precondition(parameters.count == parameterCount, "Quantize: model size changed")
    let resend = peers.resendRequests.sorted().map { UInt32(truncatingIfNeeded: $0) }
    latestRound = round
    for p in recipients { sentInRound[p] = round }
    let plan = own.plan(Array(Set(recipients)).sorted())
    var out: [OutgoingShare] = []
    for (group, members) in plan.deltas {
      let base = group.sequence
      var share = delta(parameters, against: group.copy)
      group.sequence = own.nextSequence()
      share.publicCopy = PublicCopyTag(base: base, sequence: group.sequence, keyframe: false, resend: resend)
      out.append(OutgoingShare(share: share, recipients: members))
    }
    if !plan.keyframes.isEmpty {
      let target =
        plan.deltas.first?.group ?? own.newGroup(copying: parameters) ?? own.groups.max { $0.sequence < $1.sequence }!
      own.join(plan.keyframes, target)
      let keyframe = Share(dense: target.copy.array).tagged(
        PublicCopyTag(base: 0, sequence: target.sequence, keyframe: true, resend: resend))
      out.append(OutgoingShare(share: keyframe, recipients: plan.keyframes))
    }
    own.prune()
    if let compressor {
      for k in out.indices { out[k].share.compressValues(with: compressor) }
    }
    return out
  }

  /// Q(x − x̂) (of its top `alpha` when alpha < 1), already applied to `copy`.
  private func delta(_ parameters: FloatBuffer, against copy: FloatBuffer) -> Share {
    let n = parameterCount
    let k = selectedCount
    let x = parameters.pointer
    let c = copy.pointer
    var indices: [UInt32]?
    if k < n {
      selection.select(k, of: n, into: &indexWorkspace) { abs(x[$0] - c[$0]) }
      indices = indexWorkspace
    }
    let count = indices?.count ?? n
    let share: Share
    if bits == 32 {
      var values: [Float] = []
      swap(&values, &valueWorkspace)
      values.removeAll(keepingCapacity: true)
      values.reserveCapacity(count)
      if let indices {
        for i in indices { values.append(x[Int(i)] - c[Int(i)]) }
        share = Share(indices: indices, values: values, parameterCount: n)
      } else {
        for i in 0..<n { values.append(x[i] - c[i]) }
        share = Share(dense: values)
      }
      swap(&values, &valueWorkspace)
    } else {
      let q = indices.map { idx in
        idx.withUnsafeBufferPointer { idx in
          QuantizedValues.quantize(
            count: count, bits: bits, blockSize: blockSize, scales: &scaleWorkspace, codes: &codeWorkspace
          ) {
            let i = Int(idx[$0])
            return x[i] - c[i]
          }
        }
      }
      let quantized =
        q
        ?? QuantizedValues.quantize(
          count: n, bits: bits, blockSize: blockSize, scales: &scaleWorkspace, codes: &codeWorkspace
        ) { x[$0] - c[$0] }
      share = Share(
        quantized: quantized, indices: indices, parameterCount: n,
        publicCopy: PublicCopyTag(base: 0, sequence: 0, keyframe: false))
    }
    PeerPublicCopies.add(share, to: copy)
    return share
  }

  public func receive(_ share: Share, from sender: Int) throws(SharingError) -> Share {
    guard let tag = share.publicCopy else { throw .unsupportedShare(strategy: name, encoding: share.encoding) }
    if tag.resend.contains(UInt32(truncatingIfNeeded: uid)) { own.forget(sender) }
    try peers.accept(share, tag, from: sender)
    return share
  }

  /// x ← x + γ·Σⱼ wⱼ·(x̂ⱼ − x̂ as j holds it), in one blocked pass. `selfWeight` is implied
  /// (CHOCO's w_ii = 1 − Σ wⱼ). x̂ⱼ is j's copy advanced to the share averaged, no further.
  ///
  /// A sender that holds no copy of this node, or one not sent to this round, is compared with x
  /// itself: x ← x + γ·wⱼ·(x̂ⱼ − x). The copy it holds is then as old as this node's last share to
  /// it (a random walk sends to one neighbour a round, Epidemic Learning to a few, a FedAvg client
  /// gets the server's model before it sends), and x − that copy is all the training since;
  /// subtracting the old copy would add that training again each time (8-bit RWM models ended
  /// 7.6 times as far apart as models that never mixed, EmbeddedSharingAlgorithmsTests).
  public func average(
    own x: FloatBuffer, selfWeight: Double, received: [(sender: Int, share: Share, weight: Double)],
    using aggregator: Aggregator
  ) -> AveragingReport {
    var terms: [(vector: FloatBuffer, coefficient: Float)] = []
    var ownTerms: [(vector: FloatBuffer, coefficient: Float)] = []
    var ownScale: Float = 1
    var report = AveragingReport()
    for (sender, share, weight) in received.sorted(by: { $0.sender < $1.sender }) {
      // The sender's copy as of this share: its later shares wait for their own average.
      let lost = peers.advance(sender, through: share.publicCopy?.sequence)
      if lost > 0 { report.ignoredValues[sender] = lost }
      guard let copy = peers.held[sender]?.copy else { continue }
      let c = Float(stepSize * weight)
      terms.append((copy, c))
      if sentInRound[sender] == latestRound, let g = own.group(of: sender) {
        if let k = ownTerms.firstIndex(where: { $0.vector === g.copy }) {
          ownTerms[k].coefficient -= c
        } else {
          ownTerms.append((g.copy, -c))
        }
      } else {
        ownScale -= c
      }
    }
    aggregator.combine(into: x, ownScale: ownScale, terms: terms + ownTerms)
    return report
  }

  /// Every delta is made against the copy of one group of recipients.
  public var sharesDependOnRecipient: Bool { true }

  public func peerReset(_ uid: Int) {
    own.forget(uid)
    peers.forget(uid)
  }

  /// Its copy of this node is not the one kept for its group any more: it gets a keyframe. What
  /// this node holds of it is unaffected.
  public func shareUndelivered(to uid: Int) { own.forget(uid) }

  /// The copies of the neighbours and the sequence counter. This node's own copies are not
  /// kept: after a restore it cannot know what its recipients hold, so each gets a keyframe.
  public func checkpointState() -> [UInt8] {
    peers.settle()
    var w = StateWriter(strategy: name)
    w.u32(own.counter)
    let held = peers.sortedHeld
    w.u32(UInt32(held.count))
    for (uid, h) in held {
      w.u32(UInt32(uid))
      w.u32(h.sequence)
      w.vector(h.copy)
    }
    let resend = peers.resendRequests.sorted()
    w.u32(UInt32(resend.count))
    for uid in resend { w.u32(UInt32(uid)) }
    return w.bytes
  }

  public func restoreState(_ bytes: [UInt8]) throws(SharingError) {
    var r = try StateReader(bytes, strategy: name)
    let counter = try r.u32("the sequence counter")
    let count = Int(try r.u32("the number of copies"))
    var held: [(uid: Int, held: PeerPublicCopies.Held)] = []
    for _ in 0..<min(count, 1 << 20) {
      let uid = Int(try r.u32("a copy's uid"))
      let sequence = try r.u32("a copy's sequence")
      held.append((uid, .init(copy: try r.vector(count: parameterCount, "a public copy"), sequence: sequence)))
    }
    guard held.count == count, Set(held.map(\.uid)).count == count else {
      throw .checkpointCorrupt("bad list of public copies")
    }
    let resendCount = Int(try r.u32("the resend list"))
    var resend: [Int] = []
    for _ in 0..<min(resendCount, 1 << 20) { resend.append(Int(try r.u32("the resend list"))) }
    guard resend.count == resendCount else { throw .checkpointCorrupt("bad resend list") }
    try r.finish()
    own.restore(counter: counter)
    peers.restore(held, resend: resend)
  }
}
