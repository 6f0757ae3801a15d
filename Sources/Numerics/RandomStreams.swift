/// Seeded, splittable randomness (DESIGN decision 3).
///
/// One `random_seed` derives independent, named streams: `data-split`, `init`, `shuffle`,
/// `sharing`, `peer-choice`, … Each stream depends only on the seed, its name and an optional
/// index (usually the node uid), so two processes that derive the same stream see the same
/// numbers without talking to each other, and adding a new stream never shifts an old one.
/// Every algorithm here is written out (no `Array.shuffle(using:)`, whose algorithm the
/// standard library may change), so results are bit-identical across runs and releases.

/// SplitMix64: used to expand a 64-bit seed into generator state.
public struct SplitMix64: Sendable {
  public var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// xoshiro256** 1.0 (Blackman & Vigna): fast, 256-bit state, good statistical quality.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
  var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  public init(seed: UInt64) {
    var sm = SplitMix64(seed: seed)
    s0 = sm.next()
    s1 = sm.next()
    s2 = sm.next()
    s3 = sm.next()
  }

  /// The generator's whole state, for checkpoints: `init(state:)` continues the same sequence.
  public var state: [UInt64] { [s0, s1, s2, s3] }

  /// A generator continuing from a saved `state` (four words, not all zero).
  public init?(state: [UInt64]) {
    guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
  }

  @inlinable static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  public mutating func next() -> UInt64 {
    let result = Xoshiro256.rotl(s1 &* 5, 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = Xoshiro256.rotl(s3, 45)
    return result
  }

  /// Uniform in [0, 1) with 24 bits of precision.
  public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

  /// Uniform in [0, 1) with 53 bits of precision.
  public mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

  /// Uniform in [low, high).
  public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * nextFloat() }

  /// Uniform integer in 0..<bound (Lemire's unbiased multiply-shift method).
  public mutating func nextInt(below bound: Int) -> Int {
    precondition(bound > 0, "nextInt(below:) needs a positive bound")
    let b = UInt64(bound)
    var m = next().multipliedFullWidth(by: b)
    if m.low < b {
      let threshold = (0 &- b) % b
      while m.low < threshold { m = next().multipliedFullWidth(by: b) }
    }
    return Int(m.high)
  }

  /// Standard normal (Box–Muller; one value per call, deterministic).
  public mutating func normal() -> Double {
    var u1 = nextDouble()
    while u1 <= Double.leastNormalMagnitude { u1 = nextDouble() }
    let u2 = nextDouble()
    return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
  }

  /// Gamma(shape, 1) by Marsaglia–Tsang; used for Dirichlet label skew.
  public mutating func gamma(shape: Double) -> Double {
    precondition(shape > 0, "gamma shape must be positive")
    if shape < 1 {
      // Boost: Gamma(a) = Gamma(a+1) · U^(1/a).
      let u = max(nextDouble(), Double.leastNormalMagnitude)
      return gamma(shape: shape + 1) * _exp(_log(u) / shape)
    }
    let d = shape - 1.0 / 3.0
    let c = 1 / (9 * d).squareRoot()
    while true {
      var x = 0.0
      var v = 0.0
      repeat {
        x = normal()
        v = 1 + c * x
      } while v <= 0
      v = v * v * v
      let u = nextDouble()
      if u < 1 - 0.0331 * x * x * x * x { return d * v }
      if _log(max(u, Double.leastNormalMagnitude)) < 0.5 * x * x + d * (1 - v + _log(v)) { return d * v }
    }
  }

  /// A Dirichlet(alpha, …, alpha) sample of dimension `count`.
  public mutating func dirichlet(alpha: Double, count: Int) -> [Double] {
    var g = (0..<count).map { _ in gamma(shape: alpha) }
    let total = g.reduce(0, +)
    if total <= 0 { return [Double](repeating: 1 / Double(count), count: count) }
    for i in 0..<count { g[i] /= total }
    return g
  }

  /// Fisher–Yates shuffle, written out so its output never depends on the standard library.
  public mutating func shuffle<T>(_ array: inout [T]) {
    guard array.count > 1 else { return }
    for i in stride(from: array.count - 1, to: 0, by: -1) {
      let j = nextInt(below: i + 1)
      if i != j { array.swapAt(i, j) }
    }
  }

  /// `count` distinct indices from 0..<population, in the order drawn.
  public mutating func sample(_ count: Int, from population: Int) -> [Int] {
    precondition(count <= population, "cannot sample \(count) of \(population)")
    var pool = Array(0..<population)
    for i in 0..<count {
      let j = i + nextInt(below: population - i)
      pool.swapAt(i, j)
    }
    return Array(pool[0..<count])
  }
}

/// The root of all randomness in a run: derives independent generators by name.
public struct RandomStreams: Sendable {
  public let seed: UInt64
  public init(seed: UInt64) { self.seed = seed }

  /// The well-known stream names. Others may be used; these are the ones the system relies on.
  public enum Name: String, Sendable {
    case dataSplit = "data-split"
    case initialization = "init"
    case shuffle = "shuffle"
    case sharing = "sharing"
    case peerChoice = "peer-choice"
    case synthetic = "synthetic"
  }

  /// A generator that depends only on (seed, name, index).
  public func stream(_ name: String, index: UInt64 = 0) -> Xoshiro256 {
    // FNV-1a over the name's UTF-8, then mixed with the seed and index through SplitMix64.
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in name.utf8 {
      h ^= UInt64(byte)
      h = h &* 0x0000_0100_0000_01B3
    }
    var mix = SplitMix64(seed: seed ^ h)
    let a = mix.next()
    var mix2 = SplitMix64(seed: a ^ (index &* 0xD6E8_FEB8_6659_FD93))
    return Xoshiro256(seed: mix2.next())
  }

  public func stream(_ name: Name, index: UInt64 = 0) -> Xoshiro256 { stream(name.rawValue, index: index) }
}
