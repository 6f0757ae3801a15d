import Numerics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `[SHARING] dp_clip`, `dp_sigma`, `dp_delta`, `dp_noise`.
public struct PrivacySettings: Sendable, Equatable {
  public enum Noise: String, Sendable, CaseIterable {
    /// From the node's `dp-noise` stream of `random_seed` and the round: a run is repeatable,
    /// and anyone who knows the seed can subtract the noise (for experiments only).
    case seeded
    /// From the kernel's random source (getrandom): what a deployment needs.
    case system
  }

  /// L2 bound C on the update a node shares each round.
  public var clip: Double
  /// Noise multiplier: each parameter gets N(0, (σ·C)²).
  public var sigma: Double
  /// The δ the results file reports ε at.
  public var delta: Double
  public var noise: Noise

  public init(clip: Double, sigma: Double, delta: Double = 1e-5, noise: Noise = .seeded) {
    self.clip = clip
    self.sigma = sigma
    self.delta = delta
    self.noise = noise
  }

  /// Replacing a node's data can move its clipped update anywhere in the ball of radius C, so
  /// the L2 sensitivity is 2C and the noise multiplier against it is σ/2.
  public var noiseMultiplier: Double { sigma / 2 }
}

/// The Gaussian mechanism on what a node shares.
///
/// Each time the node shares a model that holds training not yet released, its model x becomes
///   m = r + clip(x − r, C) + N(0, (σC)² I),
/// where r is the node's *public state*: the model right after its last release or an average
/// of released models (the initial model, which every node derives from the seed, before the
/// first). clip scales the update to L2 norm at most C. The node then continues from m, not
/// from x: its model after averaging is a function of what it and its neighbours released, so
/// each release is one Gaussian mechanism on a clipped update (sensitivity 2C), and T releases
/// compose (PrivacyAccountant). Sharing m but keeping x would carry the un-noised history of
/// every past round into every later message, and no accountant would apply.
///
/// What is clipped is the *update* x − r, not the model: a model's norm says nothing about one
/// node's data (it is mostly the shared starting point and its neighbours' models), so clipping
/// it would either destroy it or bound nothing; the update is what the node's data changed, as
/// in DP-SGD's per-step and DP-FedAvg's per-round clipping. Here it is clipped at the sender,
/// since no aggregator is trusted.
///
/// Whether a release happens depends on what the node did, never on the values: any training
/// (`noteTraining`) makes the next share a release, even one whose update happens to be zero. A
/// second share with no training in between sends what is already public and costs nothing.
///
/// Every sharing method then works on m: a partial share, a quantized delta or a sample of m
/// is post-processing and costs no privacy (TopK's and PartialModel's choice of what to send
/// is made on m). What is not protected: which peers a node talks to and when, its round count,
/// degree, message sizes and timing, and anything a node learns of its own data (its
/// evaluations stay local). The guarantee is for the node's whole local dataset (any change of
/// it), and so for every sample in it.
///
/// Used on the node loop's thread only.
public final class DifferentialPrivacy {
  public let settings: PrivacySettings
  /// r: the public state the next update is measured from.
  public let reference: FloatBuffer
  let key: UInt64
  /// Releases so far (the accountant's T).
  public private(set) var releases = 0
  /// Releases whose update was longer than C and was scaled down.
  public private(set) var clipped = 0
  /// Whether the model holds training not yet released: the next share is a release, and an
  /// average does not make the model public.
  public private(set) var pending = false

  /// For a node of `uid` in a run of `seed` whose model starts at `initialModel`.
  public init(_ settings: PrivacySettings, seed: UInt64, uid: Int, initialModel: FloatBuffer) {
    self.settings = settings
    reference = FloatBuffer(initialModel.array)
    var stream = RandomStreams(seed: seed).stream("dp-noise", index: UInt64(truncatingIfNeeded: uid))
    key = stream.next()
  }

  /// The model was trained on the node's data: what it shares next must be released.
  public func noteTraining() { pending = true }

  /// Makes `x` a release (above) if it holds unreleased training; returns the update's L2 norm
  /// before clipping, or nil when there was nothing to release.
  @discardableResult
  public func release(_ x: FloatBuffer, round: Int) -> Double? {
    precondition(x.count == reference.count, "DifferentialPrivacy: model size changed")
    guard pending else { return nil }
    let n = x.count
    let p = x.pointer
    let r = reference.pointer
    var squared = 0.0
    for i in 0..<n {
      let d = Double(p[i]) - Double(r[i])
      squared += d * d
    }
    let norm = squared.squareRoot()
    let scale = norm > settings.clip ? settings.clip / norm : 1
    if scale < 1 { clipped += 1 }
    let std = settings.sigma * settings.clip
    var normals = NormalSource(noise: settings.noise, key: key, round: round, release: releases)
    for i in 0..<n {
      let update = (Double(p[i]) - Double(r[i])) * scale
      let noise = std > 0 ? std * normals.next() : 0
      p[i] = Float(Double(r[i]) + update + noise)
    }
    releases += 1
    pending = false
    reference.copy(from: x)
    return norm
  }

  /// `x` was averaged with released models. Without training since the last release it is
  /// public, and the next update is measured from it; with training pending it still holds
  /// private values, and the next release measures from the old public state (still a clipped
  /// update: x is a function of the data and of public models).
  public func rebase(on x: FloatBuffer) {
    guard !pending else { return }
    reference.copy(from: x)
  }

  /// ε at the configured δ for the releases so far, by RDP and exactly.
  public var epsilon: (rdp: Double, exact: Double) {
    let z = settings.noiseMultiplier
    return (
      PrivacyAccountant.rdpEpsilon(noiseMultiplier: z, releases: releases, delta: settings.delta),
      PrivacyAccountant.exactEpsilon(noiseMultiplier: z, releases: releases, delta: settings.delta)
    )
  }

  /// Continues a run resumed from a checkpoint: its public state, counts and whether training
  /// was pending when it was written.
  public func restore(reference saved: [Float], releases: Int, clipped: Int, pending: Bool) {
    precondition(saved.count == reference.count, "DifferentialPrivacy: model size changed")
    for (i, v) in saved.enumerated() { reference[i] = v }
    self.releases = releases
    self.clipped = clipped
    self.pending = pending
  }
}

/// Standard normal values in pairs (both Box–Muller outputs), from the seeded stream of a
/// round or from the kernel's random source.
struct NormalSource {
  private var seeded: Xoshiro256?
  private var spare: Double?
  private var pool: [UInt64] = []
  private var poolIndex = 0

  /// Seeded noise is a function of the node's key, the round and the release's index: two
  /// releases never share noise, and a rerun of the same seed draws the same.
  init(noise: PrivacySettings.Noise, key: UInt64, round: Int, release: Int) {
    if noise == .seeded {
      var mix = SplitMix64(
        seed: key ^ (UInt64(truncatingIfNeeded: round) &* 0x9FB2_1C65_1E98_DF25)
          ^ (UInt64(truncatingIfNeeded: release) &* 0xD6E8_FEB8_6659_FD93))
      seeded = Xoshiro256(seed: mix.next())
    }
  }

  private mutating func word() -> UInt64 {
    if seeded != nil { return seeded!.next() }
    if poolIndex == pool.count {
      pool = [UInt64](repeating: 0, count: 4096)
      pool.withUnsafeMutableBytes { Self.systemRandom($0) }
      poolIndex = 0
    }
    defer { poolIndex += 1 }
    return pool[poolIndex]
  }

  /// Fills `buffer` from the kernel's random source (/dev/urandom: never blocks once the system
  /// has booted, and is what getrandom reads).
  static func systemRandom(_ buffer: UnsafeMutableRawBufferPointer) {
    let fd = open("/dev/urandom", O_RDONLY)
    precondition(fd >= 0, "cannot open /dev/urandom for the DP noise")
    defer { close(fd) }
    var filled = 0
    while filled < buffer.count {
      let got = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
      if got > 0 {
        filled += got
      } else if got < 0 && errno == EINTR {
        continue
      } else {
        preconditionFailure("cannot read /dev/urandom for the DP noise")
      }
    }
  }

  /// Uniform in (0, 1) with 53 bits.
  private mutating func uniform() -> Double {
    var u = 0.0
    repeat { u = Double(word() >> 11) * (1.0 / 9_007_199_254_740_992.0) } while u == 0
    return u
  }

  mutating func next() -> Double {
    if let s = spare {
      spare = nil
      return s
    }
    let radius = (-2 * log(uniform())).squareRoot()
    let angle = 2 * Double.pi * uniform()
    spare = radius * sin(angle)
    return radius * cos(angle)
  }
}
