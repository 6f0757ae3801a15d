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
final class PeerPublicCopies {
  struct Held {
    let copy: FloatBuffer
    var sequence: UInt32
  }

  let parameterCount: Int
  private(set) var held: [Int: Held] = [:]
  /// Senders this node had to refuse; listed in every share it sends until their keyframe comes.
  private(set) var resendRequests: Set<Int> = []

  init(parameterCount: Int) { self.parameterCount = parameterCount }

  func forget(_ sender: Int) {
    held[sender] = nil
    resendRequests.insert(sender)
  }

  /// Applies a tagged share from `sender` to its copy, or refuses it (asking for a keyframe).
  func apply(_ share: Share, _ tag: PublicCopyTag, from sender: Int) throws(SharingError) {
    if tag.keyframe {
      guard share.selection == .all, share.quantizedValues == nil else {
        throw .unsupportedShare(strategy: "Quantize", encoding: share.encoding)
      }
      let copy = held[sender]?.copy ?? FloatBuffer(count: parameterCount)
      share.withUnsafeValues { _ = copy.storage.update(fromContentsOf: $0) }
      held[sender] = Held(copy: copy, sequence: tag.sequence)
      resendRequests.remove(sender)
      return
    }
    guard var h = held[sender], h.sequence == tag.base else {
      resendRequests.insert(sender)
      throw .publicCopyOutOfSync(sender: sender, holding: held[sender]?.sequence, base: tag.base)
    }
    Self.add(share, to: h.copy)
    let finite: Bool
    if share.selection == .all {
      finite = ShareCodec.firstNonFinite(UnsafeBufferPointer(h.copy.storage)) == nil
    } else {
      finite = share.indices.allSatisfy { h.copy[Int($0)].isFinite }
    }
    guard finite else {
      forget(sender)
      throw .publicCopyNotFinite(sender: sender)
    }
    h.sequence = tag.sequence
    held[sender] = h
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
    resendRequests = Set(resend)
  }
}
