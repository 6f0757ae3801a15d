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
/// 4. `peerReset` when a peer restarts (a HELLO after the start: it kept nothing), and
///    `shareUndelivered` when a share made for a peer never left this node (its queue stayed
///    full, or it went down first). A peer that comes back after being down needs neither: it
///    was sent nothing meanwhile, and a share lost on the way is caught by the method itself
///    (CHOCO's sequence numbers).
/// 5. When a peer must be sent this round's share again (it came back mid-round), the runtime
///    re-sends the frame it built for the round, unless `sharesDependOnRecipient`: then it asks
///    `makeShares` for that peer alone.
public protocol SharingStrategy: AnyObject {
  /// The registered name, e.g. `PartialModel`.
  var name: String { get }

  /// True when every share is the whole vector, dense and uncompressed: the runtime then frames
  /// the parameter bytes directly (the zero-copy path) and need not call `makeShares`.
  var sharesWholeModel: Bool { get }

  /// True when a share depends on what its recipient was sent before (CHOCO's public copies): a
  /// frame built for some recipients is of no use to another. False (the default) when one
  /// round's share is the same for everyone, and `makeShares` may be called once a round only
  /// (PartialModel resets its accumulators there).
  var sharesDependOnRecipient: Bool { get }

  /// This round's outgoing shares for `recipients` (peer uids), `round` starting at 1. Usually
  /// one share for all; CHOCO returns a keyframe group besides the delta for recipients whose
  /// copy of this node is missing or stale. Every recipient appears in exactly one group.
  func makeShares(of parameters: FloatBuffer, round: Int, recipients: [Int]) -> [OutgoingShare]

  /// A decoded share from `sender`, turned into what `average` takes (CHOCO checks it against its
  /// copy of the sender here, and applies it when the share is averaged). A thrown share must
  /// not be averaged.
  func receive(_ share: Share, from sender: Int) throws(SharingError) -> Share

  /// How a parameter only some senders sent is averaged (`[SHARING] partial_averaging`); the
  /// default `average` passes it to the aggregator.
  var partialAveraging: PartialAveraging { get }

  /// Averages `own` in place with `received` (shares from `receive`, in any order; averaged in
  /// ascending sender order) at `selfWeight` and their weights, then updates what the strategy
  /// tracks of the model. Reports the non-finite values it had to leave out, per sender.
  func average(
    own: FloatBuffer, selfWeight: Double, received: [(sender: Int, share: Share, weight: Double)],
    using aggregator: Aggregator
  ) -> AveragingReport

  /// `uid` restarted: it holds nothing this node sent it before, and what this node kept of it
  /// belongs to its previous life.
  func peerReset(_ uid: Int)

  /// A share `makeShares` made for `uid` was never delivered: what this node assumes `uid`
  /// holds is wrong (CHOCO sends it a keyframe next).
  func shareUndelivered(to uid: Int)

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
  public var sharesDependOnRecipient: Bool { false }
  public var partialAveraging: PartialAveraging { .renormalize }

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
    aggregator.average(own: own, selfWeight: selfWeight, received: received, rule: partialAveraging)
  }

  public func peerReset(_ uid: Int) {}
  public func shareUndelivered(to uid: Int) {}
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
