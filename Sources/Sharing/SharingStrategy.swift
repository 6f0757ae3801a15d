import Numerics

/// Decides what part of a model goes on the wire each round and how what arrives is averaged
/// (decentralizepy's `sharing` package).
///
/// A strategy is chosen by name from `[SHARING] sharing_class` through `SharingRegistry`. It is
/// owned by one node loop and keeps state between rounds (PartialModel's accumulated change,
/// CHOCO's public copies), so it is a class, not `Sendable`, and every call comes from the loop.
///
/// The runtime's round, for any algorithm:
/// 1. `makeShares` once per send, for the uids it sends to; it frames each share once and queues
///    that frame to the share's recipients (or, when `sharesWholeModel`, frames the parameter
///    bytes itself);
/// 2. every decoded share goes through `receive` before the algorithm keeps it;
/// 3. `average` with the shares the algorithm mixes, and their weights;
/// 4. `peerReset` when a peer restarts (a HELLO after the start) or is re-admitted after being
///    down, and when a share could not be queued to it.
public protocol SharingStrategy: AnyObject {
  /// The registered name, e.g. `PartialModel`.
  var name: String { get }

  /// True when every share is the whole vector, dense and uncompressed: the runtime then frames
  /// the parameter bytes directly (the zero-copy path) and need not call `makeShares`.
  var sharesWholeModel: Bool { get }

  /// This round's outgoing shares for `recipients` (peer uids), `round` starting at 1. Usually
  /// one share for all; CHOCO returns a keyframe group besides the delta for recipients whose
  /// copy of this node is missing or stale. Every recipient appears in exactly one group.
  func makeShares(of parameters: FloatBuffer, round: Int, recipients: [Int]) -> [OutgoingShare]

  /// A decoded share from `sender`, turned into what `average` takes (CHOCO updates its copy of
  /// the sender here). A thrown share must not be averaged.
  func receive(_ share: Share, from sender: Int) throws(SharingError) -> Share

  /// Averages `own` in place with `received` (shares from `receive`, in any order; averaged in
  /// ascending sender order) at `selfWeight` and their weights, then updates what the strategy
  /// tracks of the model. Reports the non-finite values it had to leave out, per sender.
  func average(
    own: FloatBuffer, selfWeight: Double, received: [(sender: Int, share: Share, weight: Double)],
    using aggregator: Aggregator
  ) -> AveragingReport

  /// `uid` restarted, or may have missed shares: forget or resynchronise what is kept about it.
  func peerReset(_ uid: Int)

  /// Every piece of state (accumulators, public copies), for a checkpoint.
  func checkpointState() -> [UInt8]

  /// State from `checkpointState()` of the same strategy on a model of the same size.
  func restoreState(_ bytes: [UInt8]) throws(SharingError)
}

/// One share and the peers it goes to.
public struct OutgoingShare {
  public var share: Share
  public var recipients: [Int]

  public init(share: Share, recipients: [Int]) {
    self.share = share
    self.recipients = recipients
  }
}

/// What an average left out.
public struct AveragingReport: Sendable, Equatable {
  /// Sender → how many of its values were NaN or infinite and so ignored (senders with none
  /// are absent).
  public var ignoredValues: [Int: Int]

  public init(ignoredValues: [Int: Int] = [:]) { self.ignoredValues = ignoredValues }
}

extension SharingStrategy {
  public var sharesWholeModel: Bool { false }

  /// Float32 shares without a public-copy tag are averaged as they are; anything else means the
  /// nodes disagree on the method.
  public func receive(_ share: Share, from sender: Int) throws(SharingError) -> Share {
    guard share.quantizedValues == nil, share.publicCopy == nil else {
      throw .unsupportedShare(strategy: name, encoding: share.encoding)
    }
    return share
  }

  public func average(
    own: FloatBuffer, selfWeight: Double, received: [(sender: Int, share: Share, weight: Double)],
    using aggregator: Aggregator
  ) -> AveragingReport {
    aggregator.average(own: own, selfWeight: selfWeight, received: received)
  }

  public func peerReset(_ uid: Int) {}
}

extension Aggregator {
  /// begin, add every share in ascending sender order, finish into `own`: the whole average of
  /// float32 shares, with the report of what was left out. With a robust rule installed
  /// (`robust`), that rule instead.
  public func average(
    own: FloatBuffer, selfWeight: Double, received: [(sender: Int, share: Share, weight: Double)],
    rule: PartialAveraging = .renormalize
  ) -> AveragingReport {
    if let robust {
      return robust.average(own: own, selfWeight: selfWeight, received: received, partialRule: rule, using: self)
    }
    let ordered = received.sorted { $0.sender < $1.sender }
    begin(own: own, selfWeight: selfWeight, rule: rule)
    for entry in ordered { add(entry.share, weight: entry.weight) }
    finish(into: own)
    var report = AveragingReport()
    for (entry, ignored) in zip(ordered, ignoredValues) where ignored > 0 {
      report.ignoredValues[entry.sender] = ignored
    }
    return report
  }
}
