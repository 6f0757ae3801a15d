import Numerics

/// SubSampling's mask: exactly `count` of `parameterCount` indices, drawn from a seed, so that a
/// frame carries 8 bytes of seed instead of the indices (docs/protocol.md §4.5).
///
/// Selection sampling (Knuth's Algorithm S) in integers only: walking i = 0, 1, …, parameter i is
/// taken when high64(r · (P − i)) < (count − taken), r being the next xoshiro256** output for
/// the seed. Every parameter has the same chance count/P, the indices come out sorted, and no
/// floating-point function is involved, so a receiver on any platform rebuilds the same mask.
/// decentralizepy draws a Bernoulli mask from torch's generator, seeded from the OS: its count
/// varies and its masks cannot be repeated.
public enum SeededMask {
  /// Fills `indices` (its contents replaced, its capacity reused) with the mask.
  public static func fill(_ indices: inout [UInt32], seed: UInt64, count: Int, parameterCount: Int) {
    precondition(count >= 0 && count <= parameterCount && parameterCount <= Int(UInt32.max), "bad mask size")
    indices.removeAll(keepingCapacity: true)
    indices.reserveCapacity(count)
    var rng = Xoshiro256(seed: seed)
    var needed = UInt64(count)
    var remaining = UInt64(parameterCount)
    var i: UInt32 = 0
    while needed > 0 {
      if rng.next().multipliedFullWidth(by: remaining).high < needed {
        indices.append(i)
        needed -= 1
      }
      remaining -= 1
      i += 1
    }
  }

  public static func indices(seed: UInt64, count: Int, parameterCount: Int) -> [UInt32] {
    var out: [UInt32] = []
    fill(&out, seed: seed, count: count, parameterCount: parameterCount)
    return out
  }
}

/// The per-round randomness of a node's sharing: the `sharing` stream of `random_seed` for this
/// uid, mixed with the round, so a round's draw depends only on (seed, uid, round). A node
/// restarted from a checkpoint, or without one, draws what it would have drawn, and there is no
/// generator position to save.
struct SharingRandomness {
  let key: UInt64

  init(seed: UInt64, uid: Int) {
    var stream = RandomStreams(seed: seed).stream(.sharing, index: UInt64(truncatingIfNeeded: uid))
    key = stream.next()
  }

  func generator(round: Int) -> Xoshiro256 {
    var mix = SplitMix64(seed: key ^ (UInt64(truncatingIfNeeded: round) &* 0xD1B5_4A32_D192_ED03))
    return Xoshiro256(seed: mix.next())
  }
}
