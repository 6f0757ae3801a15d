/// Picks the `count` largest of n magnitudes in O(n) expected time: quickselect on a workspace
/// copy finds the count-th largest value t, then the caller's own pass takes every magnitude
/// above t and the first ties equal to t in index order. The result is the set a full sort would
/// give, with ties broken by index, so it is deterministic and comes out in index order (the
/// wire wants sorted indices anyway).
///
/// decentralizepy calls `torch.topk` and then sorts the indices; a sort is O(n log n), and its
/// PartialModel round is 12× a full-sharing round on MNIST.
struct TopSelection {
  /// Workspace of n floats, allocated once; quickselect permutes it.
  private var scratch: [Float]

  init(capacity: Int) { scratch = [Float](repeating: 0, count: max(capacity, 1)) }

  /// Lets `fill` write the n magnitudes into the workspace and returns the cutoff admitting
  /// exactly `count` of them (0 < count < n; NaN magnitudes are never admitted).
  mutating func cutoff(count k: Int, of n: Int, fill: (UnsafeMutablePointer<Float>) -> Void) -> Cutoff {
    precondition(n <= scratch.count && k > 0 && k < n, "TopSelection: bad sizes")
    return scratch.withUnsafeMutableBufferPointer { buffer -> Cutoff in
      let a = buffer.baseAddress!
      fill(a)
      let threshold = Self.kthLargest(a, n, k)
      var greater = 0
      for i in 0..<n where a[i] > threshold { greater += 1 }
      return Cutoff(threshold: threshold, ties: k - greater)
    }
  }

  /// The k-th largest of a[0..<n] (k ≥ 1), reordering a. Median-of-three pivots, switching to
  /// pseudo-random ones if the range shrinks too slowly, so adversarial inputs stay O(n).
  static func kthLargest(_ a: UnsafeMutablePointer<Float>, _ n: Int, _ k: Int) -> Float {
    var lo = 0
    var hi = n - 1
    let target = k - 1
    var state = UInt64(n) | 1
    var rounds = 0
    while lo < hi {
      rounds += 1
      let p: Float
      if rounds > 64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        p = a[lo + Int(state % UInt64(hi - lo + 1))]
      } else {
        let x = a[lo]
        let y = a[(lo + hi) / 2]
        let z = a[hi]
        p = max(min(x, y), min(max(x, y), z))
      }
      // Hoare partition, descending: [lo, j] ≥ p ≥ [i, hi] when it stops.
      var i = lo
      var j = hi
      while i <= j {
        while a[i] > p { i += 1 }
        while a[j] < p { j -= 1 }
        if i <= j {
          let t = a[i]
          a[i] = a[j]
          a[j] = t
          i += 1
          j -= 1
        }
      }
      if target <= j {
        hi = j
      } else if target >= i {
        lo = i
      } else {
        return a[target]
      }
    }
    return a[target]
  }
}

/// Admits magnitudes above `threshold`, and the first `ties` equal to it.
struct Cutoff {
  let threshold: Float
  var ties: Int

  @inline(__always) mutating func admits(_ magnitude: Float) -> Bool {
    if magnitude > threshold { return true }
    if magnitude == threshold && ties > 0 {
      ties -= 1
      return true
    }
    return false
  }
}
