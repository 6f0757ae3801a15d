import Numerics

/// The sender's side of CHOCO: this node's public copy x̂ as its recipients hold it.
///
/// Recipients that received the same updates hold the same copy, so they form one group with
/// one copy here. When a node sends to every neighbour every round (D-PSGD, SwarmAvg, FedAvg)
/// there is one group. When it sends to a subset (a random walk, Epidemic Learning), the members
/// left out keep the old copy: the group is split, the copy cloned, up to `maximumGroups` copies;
/// beyond that the members left out are forgotten and get a keyframe next time. A recipient not
/// in any group (never sent to, reset, restored, or asking for a resend) gets a keyframe and
/// joins a group.
///
/// Sequence numbers come from one counter, so a sequence names one state of one copy: a
/// receiver can never apply a delta meant for another lineage of copies.
final class OwnPublicCopies {
  final class Group {
    let copy: FloatBuffer
    var sequence: UInt32
    var members: Set<Int>

    init(copy: FloatBuffer, sequence: UInt32, members: Set<Int>) {
      self.copy = copy
      self.sequence = sequence
      self.members = members
    }
  }

  static let maximumGroups = 8
  let parameterCount: Int
  private(set) var groups: [Group] = []
  private var groupOf: [Int: Group] = [:]
  private(set) var counter: UInt32 = 0

  init(parameterCount: Int) { self.parameterCount = parameterCount }

  func group(of uid: Int) -> Group? { groupOf[uid] }

  /// `uid` gets a keyframe the next time it is sent to.
  func forget(_ uid: Int) {
    groupOf[uid]?.members.remove(uid)
    groupOf[uid] = nil
  }

  func forgetAll() {
    groups.removeAll()
    groupOf.removeAll()
  }

  func nextSequence() -> UInt32 {
    counter &+= 1
    return counter
  }

  /// Restored nodes continue far past the checkpoint's counter, so no sequence they send can
  /// name a state a receiver still holds from before the crash.
  func restore(counter: UInt32) {
    forgetAll()
    self.counter = counter &+ (1 << 16)
  }

  /// Splits `recipients` (sorted) into the groups that will get a delta, with the members that
  /// receive it, and those needing a keyframe. Members of an updated group that are not
  /// recipients are split off first, so their copy stays as it is.
  func plan(_ recipients: [Int]) -> (deltas: [(group: Group, members: [Int])], keyframes: [Int]) {
    var deltas: [(group: Group, members: [Int])] = []
    var keyframes: [Int] = []
    for uid in recipients {
      guard let g = groupOf[uid] else {
        keyframes.append(uid)
        continue
      }
      if let k = deltas.firstIndex(where: { $0.group === g }) {
        deltas[k].members.append(uid)
      } else {
        deltas.append((g, [uid]))
      }
    }
    let chosen = Set(recipients)
    for (g, _) in deltas {
      let left = g.members.subtracting(chosen)
      guard !left.isEmpty else { continue }
      g.members.subtract(left)
      if groups.count < Self.maximumGroups {
        let clone = FloatBuffer(count: parameterCount)
        clone.copy(from: g.copy)
        adopt(Group(copy: clone, sequence: g.sequence, members: left))
      } else {
        for uid in left { groupOf[uid] = nil }
      }
    }
    return (deltas, keyframes)
  }

  /// A group whose copy is `parameters` exactly, for keyframe recipients when no group was
  /// updated this round; nil at the limit of copies.
  func newGroup(copying parameters: FloatBuffer) -> Group? {
    guard groups.count < Self.maximumGroups else { return nil }
    let copy = FloatBuffer(count: parameterCount)
    copy.copy(from: parameters)
    let g = Group(copy: copy, sequence: nextSequence(), members: [])
    groups.append(g)
    return g
  }

  func join(_ uids: [Int], _ g: Group) {
    for uid in uids {
      forget(uid)
      g.members.insert(uid)
      groupOf[uid] = g
    }
  }

  /// Drops groups nobody holds any more.
  func prune() { groups.removeAll { $0.members.isEmpty } }

  private func adopt(_ g: Group) {
    groups.append(g)
    for uid in g.members { groupOf[uid] = g }
  }
}

/// The receiver's side of CHOCO: each sender's public copy, tagged with the sequence of the last
/// update applied. A sender not held here (never heard, reset, or dropped after a bad update)
/// must send a keyframe first.
///
/// A share is checked when it arrives (`accept`: it must build on the sender's latest state)
/// but applied to the copy only when a share of its sender is averaged (`advance`), in order.
/// So a round's consensus step reads the copy as of the share it averages: a faster neighbour's
/// next share, which D-PSGD's look-ahead admits while this node still averages the round
/// before, no longer moves the copy under it, and a synchronous run gives the same bits
/// whatever the timing (with the copy advanced on arrival it did not).
final class PeerPublicCopies {
  struct Held {
    let copy: FloatBuffer
    var sequence: UInt32
  }

  /// Shares accepted but not applied beyond this many per sender are applied oldest first.
  static let pendingLimit = 8
  let parameterCount: Int
  private(set) var held: [Int: Held] = [:]
  /// Per sender, the shares accepted and not yet applied, oldest first; each builds on the one
  /// before (the first on `held`, unless it is a keyframe).
  private var pending: [Int: [(share: Share, tag: PublicCopyTag)]] = [:]
  /// Senders this node had to refuse; listed in every share it sends until their keyframe comes.
  private(set) var resendRequests: Set<Int> = []

  init(parameterCount: Int) { self.parameterCount = parameterCount }

  func forget(_ sender: Int) {
    held[sender] = nil
    pending[sender] = nil
    resendRequests.insert(sender)
  }

  /// The state of `sender`'s copy its next share must build on: the last accepted.
  func latestSequence(of sender: Int) -> UInt32? { pending[sender]?.last?.tag.sequence ?? held[sender]?.sequence }

  /// Checks a tagged share from `sender` and keeps it for `advance`, or refuses it (asking for
  /// a keyframe).
  func accept(_ share: Share, _ tag: PublicCopyTag, from sender: Int) throws(SharingError) {
    if tag.keyframe {
      guard share.selection == .all, share.quantizedValues == nil else {
        throw .unsupportedShare(strategy: "Quantize", encoding: share.encoding)
      }
      resendRequests.remove(sender)
    } else {
      guard let latest = latestSequence(of: sender), latest == tag.base else {
        resendRequests.insert(sender)
        throw .publicCopyOutOfSync(sender: sender, holding: latestSequence(of: sender), base: tag.base)
      }
    }
    pending[sender, default: []].append((share, tag))
    if let queue = pending[sender], queue.count > Self.pendingLimit {
      _ = advance(sender, through: queue[0].tag.sequence)
    }
  }

  /// Applies `sender`'s accepted shares in order up to the one of `sequence` (all with nil);
  /// nothing if that one was applied already. Returns how many values of the copy stopped being
  /// finite (0 normally): then the copy is dropped and a keyframe asked for.
  func advance(_ sender: Int, through sequence: UInt32? = nil) -> Int {
    guard let queue = pending[sender], !queue.isEmpty else { return 0 }
    if let sequence, !queue.contains(where: { $0.tag.sequence == sequence }) { return 0 }
    var applied = 0
    for (share, tag) in queue {
      applied += 1
      if tag.keyframe {
        let copy = held[sender]?.copy ?? FloatBuffer(count: parameterCount)
        share.withUnsafeValues { _ = copy.storage.update(fromContentsOf: $0) }
        held[sender] = Held(copy: copy, sequence: tag.sequence)
      } else if var h = held[sender] {
        Self.add(share, to: h.copy)
        let bad: Int
        if share.selection == .all {
          let values = UnsafeBufferPointer(h.copy.storage)
          bad = ShareCodec.firstNonFinite(values) == nil ? 0 : values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        } else {
          bad = share.indices.reduce(0) { $0 + (h.copy[Int($1)].isFinite ? 0 : 1) }
        }
        guard bad == 0 else {
          forget(sender)
          return bad
        }
        h.sequence = tag.sequence
        held[sender] = h
      }
      if tag.sequence == sequence { break }
    }
    pending[sender] = applied == queue.count ? nil : Array(queue.dropFirst(applied))
    return 0
  }

  /// Applies everything accepted (for a checkpoint, or to compare copies at the end of a run).
  func settle() {
    for sender in pending.keys.sorted() { _ = advance(sender) }
  }

  /// copy += the share's (dequantized) values, at its indices or everywhere: the one update both
  /// sides of a CHOCO pair make.
  static func add(_ share: Share, to copy: FloatBuffer) {
    let target = copy.pointer
    if let q = share.quantizedValues {
      q.add(to: target, indices: share.selection == .all ? nil : share.indices)
      return
    }
    share.withUnsafeValues { values in
      if share.selection == .all {
        for i in 0..<values.count { target[i] += values[i] }
      } else {
        let indices = share.indices
        for k in 0..<values.count { target[Int(indices[k])] += values[k] }
      }
    }
  }

  /// For a checkpoint: the copies in uid order.
  var sortedHeld: [(uid: Int, held: Held)] { held.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

  func restore(_ entries: [(uid: Int, held: Held)], resend: [Int]) {
    held = Dictionary(uniqueKeysWithValues: entries.map { ($0.uid, $0.held) })
    pending = [:]
    resendRequests = Set(resend)
  }
}
