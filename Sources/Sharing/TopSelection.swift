/// Picks the `count` largest of n magnitudes in O(n), ties broken by index, in index order: the
/// set a full sort would give, deterministic, and sorted as the wire wants it.
///
/// Quickselect with Floyd–Rivest sampling: two order statistics of a fixed pseudo-random
/// sample of up to 2048 magnitudes bracket the count-th largest. One branch-free pass over
/// the n magnitudes keeps the indices above the bracket (certainly chosen) and the few percent
/// inside it with their magnitudes; quickselect on those gives the threshold, and merging the
/// two index lists gives the answer. So a selection reads the model once. Plain quickselect
/// over all n (the fallback when the bracket misses: rare, or adversarial input) needs a copy,
/// mispredicts a branch on every other element and a second pass to collect, 25 ms against
/// about 3 on the 1.69 M parameters of the FEMNIST CNN.
///
/// Models of up to `histogramLimit` parameters (the MNIST logistic regression's 7,850) take
/// another road to the same answer: their magnitudes fit in L2, so they are copied once as
/// sortable keys and counted into 1,024 buckets of their top bits; the bucket holding the
/// count-th largest is the bracket, found exactly, with no sample to sort. Measured beside the
/// sampled bracket (`peerd-bench sharing`, the two builds alternated): a PartialModel α = 0.1
/// share of the logistic regression is made in 54–65 µs against 72–78.
///
/// decentralizepy calls `torch.topk` and then sorts the indices; a sort is O(n log n), and its
/// PartialModel round is 12× a full-sharing round on MNIST.
struct TopSelection {
  /// Workspaces allocated once: n floats for the fallback, and the bracket's lists.
  private var scratch: [Float]
  private var above: [UInt32] = []
  private var insideIndices: [UInt32] = []
  private var insideMagnitudes: [Float] = []
  private var pivots: [Float] = []
  /// The histogram path's keys (one per parameter) and bucket counts.
  private var keys: [UInt32] = []
  private var histogram = [UInt32](repeating: 0, count: 4 * TopSelection.buckets)
  static let sampleSize = 2048
  static let histogramLimit = 1 << 16
  static let buckets = 1024

  init(capacity: Int) { scratch = [Float](repeating: 0, count: max(capacity, 1)) }

  /// Replaces `indices` with those of the k largest of the n values `magnitude(0..<n)`, in index
  /// order (k < n; NaN is never chosen). `magnitude` must give the same value every time.
  mutating func select(_ k: Int, of n: Int, into indices: inout [UInt32], magnitude: (Int) -> Float) {
    precondition(n <= scratch.count && k < n, "TopSelection: bad sizes")
    indices.removeAll(keepingCapacity: true)
    guard k > 0 else { return }
    if n <= Self.histogramLimit {
      if counted(k, n, into: &indices, magnitude) { return }
    } else if bracketed(k, n, into: &indices, magnitude) {
      return
    }
    let cutoff = fullCutoff(k, n, magnitude)
    // Branch-free: every index is written, and kept by advancing past it. A branch here
    // mispredicts on every admitted value, a tenth of them at alpha = 0.1.
    indices.append(contentsOf: repeatElement(0, count: k + 1))
    let taken = indices.withUnsafeMutableBufferPointer { out -> Int in
      let t = cutoff.threshold
      var ties = cutoff.ties
      var taken = 0
      for i in 0..<n {
        let m = magnitude(i)
        let tie = m == t && ties > 0
        ties &-= tie ? 1 : 0
        out[taken] = UInt32(truncatingIfNeeded: i)
        taken &+= (m > t || tie) ? 1 : 0
      }
      return taken
    }
    indices.removeLast(indices.count - taken)
  }

  /// Quickselect over a copy of all n magnitudes.
  private mutating func fullCutoff(_ k: Int, _ n: Int, _ magnitude: (Int) -> Float) -> Cutoff {
    scratch.withUnsafeMutableBufferPointer { buffer -> Cutoff in
      let a = buffer.baseAddress!
      for i in 0..<n { a[i] = magnitude(i) }
      let t = Self.kthLargest(a, n, k)
      var greater = 0
      for i in 0..<n { greater &+= a[i] > t ? 1 : 0 }
      return Cutoff(threshold: t, ties: k - greater)
    }
  }

  /// The sampled path; false (and `indices` untouched) when the bracket does not hold the
  /// k-th largest.
  private mutating func bracketed(
    _ k: Int, _ n: Int, into indices: inout [UInt32], _ magnitude: (Int) -> Float
  ) -> Bool {
    // A sample of an eighth of the model up to 2048: sorting it stays a small part of the pass.
    let s = min(Self.sampleSize, n / 8)
    var sample = [Float](repeating: 0, count: s)
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
    let step = n / s
    for j in 0..<s {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      sample[j] = magnitude(j * step + Int((state >> 33) % UInt64(step)))
    }
    let rank = Double(k) * Double(s) / Double(n)
    let spread = 3 * (rank * (1 - Double(k) / Double(n))).squareRoot() + 2
    // Two order statistics of the sample, by quickselect on copies (a sort costs more).
    func largest(_ r: Int) -> Float {
      var copy = sample
      return copy.withUnsafeMutableBufferPointer { Self.kthLargest($0.baseAddress!, s, r + 1) }
    }
    let hi = largest(max(0, Int(rank - spread)))
    let lo = largest(min(s - 1, Int(rank + spread)))
    guard hi.isFinite, lo.isFinite else { return false }
    // Capacities with one spare slot: writes past the end land on it, and an overflow is
    // seen after the pass (the bracket missed).
    let insideCapacity = max(1024, Int(8 * Double(n) * 2 * spread / Double(s)))
    Self.resize(&above, k + 1)
    Self.resize(&insideIndices, insideCapacity + 1)
    Self.resize(&insideMagnitudes, insideCapacity + 1)
    var countAbove = 0
    var countInside = 0
    above.withUnsafeMutableBufferPointer { up in
      insideIndices.withUnsafeMutableBufferPointer { midIndex in
        insideMagnitudes.withUnsafeMutableBufferPointer { midMagnitude in
          for i in 0..<n {
            let m = magnitude(i)
            let index = UInt32(truncatingIfNeeded: i)
            up[min(countAbove, k)] = index
            countAbove &+= m > hi ? 1 : 0
            let slot = min(countInside, insideCapacity)
            midIndex[slot] = index
            midMagnitude[slot] = m
            countInside &+= (m <= hi && m >= lo) ? 1 : 0
          }
        }
      }
    }
    guard countAbove < k, countInside <= insideCapacity, k <= countAbove + countInside else { return false }
    finish(k, countAbove: countAbove, countInside: countInside, into: &indices)
    return true
  }

  /// The histogram path: keys are the magnitudes' bit patterns plus one (a non-negative float's
  /// pattern orders like its value; NaN and negatives get 0, below everything), bucketed by
  /// their top 10 bits (4 buckets an octave). Neighbouring parameters often share a bucket, so
  /// four interleaved histograms keep consecutive increments off one counter. False when the
  /// k-th largest is in the lowest bucket (NaN, zeros and subnormals tied with it: the full
  /// quickselect sorts that out).
  private mutating func counted(
    _ k: Int, _ n: Int, into indices: inout [UInt32], _ magnitude: (Int) -> Float
  ) -> Bool {
    Self.resize(&keys, n)
    let shift: UInt32 = 21
    let buckets = Self.buckets
    let bucket: Int = keys.withUnsafeMutableBufferPointer { key in
      histogram.withUnsafeMutableBufferPointer { count -> Int in
        count.update(repeating: 0)
        func code(_ i: Int) -> UInt32 {
          let m = magnitude(i) + 0  // -0 becomes +0
          let c = m >= 0 ? m.bitPattern &+ 1 : 0
          key[i] = c
          return c >> shift
        }
        var i = 0
        while i + 4 <= n {
          count[Int(code(i))] &+= 1
          count[buckets + Int(code(i + 1))] &+= 1
          count[2 * buckets + Int(code(i + 2))] &+= 1
          count[3 * buckets + Int(code(i + 3))] &+= 1
          i += 4
        }
        while i < n {
          count[Int(code(i))] &+= 1
          i += 1
        }
        for b in 0..<buckets {
          count[b] = count[b] &+ count[buckets + b] &+ count[2 * buckets + b] &+ count[3 * buckets + b]
        }
        var b = buckets - 1
        var taken = Int(count[b])
        while taken < k && b > 0 {
          b -= 1
          taken += Int(count[b])
        }
        return b
      }
    }
    guard bucket > 0 else { return false }
    let countInBucket = Int(histogram[bucket])
    Self.resize(&above, k + 1)
    Self.resize(&insideIndices, countInBucket + 1)
    Self.resize(&insideMagnitudes, countInBucket + 1)
    var countAbove = 0
    var countInside = 0
    let b = UInt32(bucket)
    keys.withUnsafeBufferPointer { key in
      above.withUnsafeMutableBufferPointer { up in
        insideIndices.withUnsafeMutableBufferPointer { midIndex in
          insideMagnitudes.withUnsafeMutableBufferPointer { midMagnitude in
            for i in 0..<n {
              let code = key[i]
              let index = UInt32(truncatingIfNeeded: i)
              up[countAbove] = index
              countAbove &+= code >> shift > b ? 1 : 0
              midIndex[countInside] = index
              midMagnitude[countInside] = Float(bitPattern: code &- 1)
              countInside &+= code >> shift == b ? 1 : 0
            }
          }
        }
      }
    }
    finish(k, countAbove: countAbove, countInside: countInside, into: &indices)
    return true
  }

  /// Given `countAbove` indices certainly chosen in `above` and `countInside` candidates in
  /// `insideIndices`/`insideMagnitudes` (both in index order) that hold the k-th largest: the
  /// threshold among the candidates, then both lists merged into `indices`.
  private mutating func finish(_ k: Int, countAbove: Int, countInside: Int, into indices: inout [UInt32]) {
    Self.resize(&pivots, countInside)
    let threshold = insideMagnitudes.withUnsafeBufferPointer { mid in
      pivots.withUnsafeMutableBufferPointer { p -> Float in
        for j in 0..<countInside { p[j] = mid[j] }
        return Self.kthLargest(p.baseAddress!, countInside, k - countAbove)
      }
    }
    var cutoff = Cutoff(threshold: threshold, ties: k - countAbove)
    for j in 0..<countInside where insideMagnitudes[j] > threshold { cutoff.ties -= 1 }
    // Merge the certain indices with the admitted inside ones, both in index order.
    indices.reserveCapacity(k)
    var a = 0
    for j in 0..<countInside where cutoff.admits(insideMagnitudes[j]) {
      let index = insideIndices[j]
      while a < countAbove && above[a] < index {
        indices.append(above[a])
        a += 1
      }
      indices.append(index)
    }
    while a < countAbove {
      indices.append(above[a])
      a += 1
    }
  }

  private static func resize<T: Numeric>(_ array: inout [T], _ count: Int) {
    if array.count < count { array.append(contentsOf: repeatElement(0, count: count - array.count)) }
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
