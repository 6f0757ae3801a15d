/// One decoder under fuzzing: how to call it on bytes, what valid inputs look like, and how much
/// it may allocate.
///
/// Adding a decoder to the harness is one `FuzzTarget(...)` line in `FuzzTargets.all`; adding a
/// share encoding is one line in `ShareSeeds.builders` (Targets+Binary.swift).
public struct FuzzTarget: Sendable {
  /// What the decoder said about an input.
  public enum Outcome: Sendable, Equatable {
    case accepted
    /// Rejected with this message (the one line a user would see).
    case rejected(String)
  }

  /// Where a binary format keeps a count or length, for the mutator's "claim" step, which
  /// writes huge values there.
  public struct CountField: Sendable {
    public var offset: Int
    public var width: Int
    public var bigEndian: Bool
    public init(offset: Int, width: Int, bigEndian: Bool = false) {
      self.offset = offset
      self.width = width
      self.bigEndian = bigEndian
    }
  }

  public var name: String
  /// Valid (or nearly valid) inputs that mutation starts from.
  public var seeds: [[UInt8]]
  /// Tokens the mutator inserts: keywords, separators, numbers that sit on bounds.
  public var dictionary: [[UInt8]]
  public var countFields: [CountField]
  /// Inputs that claim `n` elements (records, nodes, samples, bytes) in few bytes. The harness
  /// feeds each for n up to 10^12 and checks that the decoder's allocation stays within
  /// `allocationBound`: one that allocated what the input claims fails at once.
  public var claims: [@Sendable (Int) -> [UInt8]]
  /// The largest single allocation a decode of `n` input bytes may make:
  /// `base + perInputByte × n`.
  public var allocationBase: Int
  public var allocationPerInputByte: Int
  /// Applied after mutation with probability 1/4 (e.g. gzip an IDX input, so the compressed
  /// path sees mutated headers too).
  public var finish: (@Sendable ([UInt8]) -> [UInt8])?
  /// Harness self-tests are run only by name, never by `--all`.
  public var isSelfTest: Bool
  public var decode: @Sendable ([UInt8]) -> Outcome

  public init(
    name: String, seeds: [[UInt8]], dictionary: [[UInt8]] = [], countFields: [CountField] = [],
    claims: [@Sendable (Int) -> [UInt8]] = [], allocationBase: Int = 1 << 20, allocationPerInputByte: Int = 64,
    finish: (@Sendable ([UInt8]) -> [UInt8])? = nil, isSelfTest: Bool = false,
    decode: @escaping @Sendable ([UInt8]) -> Outcome
  ) {
    self.name = name
    self.seeds = seeds
    self.dictionary = dictionary
    self.countFields = countFields
    self.claims = claims
    self.allocationBase = allocationBase
    self.allocationPerInputByte = allocationPerInputByte
    self.finish = finish
    self.isSelfTest = isSelfTest
    self.decode = decode
  }

  public func allocationBound(inputSize n: Int) -> Int { allocationBase + allocationPerInputByte * n }

  /// Runs `body`, mapping a thrown error to `.rejected` with its description.
  public static func outcome(_ body: () throws -> Void) -> Outcome {
    do {
      try body()
      return .accepted
    } catch {
      return .rejected("\(error)")
    }
  }
}

/// Every decoder the harness knows.
public enum FuzzTargets {
  public static let all: [FuzzTarget] = [
    TextTargets.ini, TextTargets.graphEdges, TextTargets.graphAdjacency, TextTargets.ipJSON,
    TextTargets.movieLens, TextTargets.leafFemnist,
    BinaryTargets.idx, BinaryTargets.movieLensCache, BinaryTargets.wireHeader, BinaryTargets.share,
    SelfTestTargets.greedy, SelfTestTargets.trap, SelfTestTargets.hang,
  ]

  /// The targets `--all` runs: every decoder, no self-test.
  public static var decoders: [FuzzTarget] { all.filter { !$0.isSelfTest } }

  public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
