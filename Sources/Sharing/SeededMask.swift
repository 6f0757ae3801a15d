import Numerics

/// SubSampling's mask: exactly `count` of `parameterCount` indices, drawn from a seed, so that a
/// frame carries 8 bytes of seed instead of the indices (docs/protocol.md §4.5).
///
/// Selection sampling (Knuth's Algorithm S) in integers only. The seed starts a xoshiro256**
/// generator whose outputs are split into 32-bit words, low half first; walking i = 0, 1, …,
/// parameter i takes the next word r and is selected when (r · (P − i)) >> 32 < (count − taken).
/// Every parameter has the same chance count/P, the indices come out sorted, and no
/// floating-point function is involved, so a receiver on any platform rebuilds the same mask.
/// decentralizepy draws a Bernoulli mask from torch's generator, seeded from the OS: its count
/// varies and its masks cannot be repeated.
public enum SeededMask {
  /// Fills `indices` (its contents replaced, its capacity reused) with the mask.
  public static func fill(_ indices: inout [UInt32], seed: UInt64, count: Int, parameterCount: Int) {
    precondition(count >= 0 && count <= parameterCount && parameterCount <= Int(UInt32.max), "bad mask size")
    indices.removeAll(keepingCapacity: true)
    indices.append(contentsOf: repeatElement(0, count: count))
    indices.withUnsafeMutableBufferPointer { out in
      var rng = MaskGenerator(seed: seed)
      var needed = UInt64(count)
      var remaining = UInt64(parameterCount)
      var i: UInt32 = 0
      var taken = 0
      // Branch-free: every index is written, and kept by advancing past it.
      @inline(__always) func step(_ r: UInt64) {
        let keep = (r &* remaining) >> 32 < needed
        out[min(taken, count - 1)] = i
        taken &+= keep ? 1 : 0
        needed &-= keep ? 1 : 0
        remaining &-= 1
        i &+= 1
      }
      while needed > 0 {
        let word = rng.next()
        step(word & 0xFFFF_FFFF)
        if needed > 0 { step(word >> 32) }
      }
    }
  }

  public static func indices(seed: UInt64, count: Int, parameterCount: Int) -> [UInt32] {
    var out: [UInt32] = []
    fill(&out, seed: seed, count: count, parameterCount: parameterCount)
    return out
  }
}

/// xoshiro256** 1.0 seeded with four SplitMix64 outputs of the seed: the generator the protocol
/// names for masks (docs/protocol.md §4.5), the same sequence as `Numerics.Xoshiro256`, written
/// here so that it inlines into the mask loop and so that the wire does not depend on a
/// library's internals.
struct MaskGenerator {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  init(seed: UInt64) {
    var mix = SplitMix64(seed: seed)
    s0 = mix.next()
    s1 = mix.next()
    s2 = mix.next()
    s3 = mix.next()
  }

  @inline(__always) mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3 << 45 | s3 >> 19
    return result
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
