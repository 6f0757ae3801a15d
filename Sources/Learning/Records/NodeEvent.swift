import Foundation

/// One line of a node's append-only `<uid>_events.jsonl`: a round (or step) as it ends, or
/// something that happened to the node (start, a peer down or up, a reject, a stop).
///
/// Written once per round as it ends, so a run is readable while it goes on (by `peerctl watch`,
/// by the launcher) without the results file being rewritten every round. Fields a kind does not
/// use are absent.
public struct NodeEvent: Codable, Sendable, Equatable {
  public enum Kind: String, Codable, Sendable {
    /// The node started (or restarted, or resumed).
    case start
    case round
    /// An evaluation that ends no round: round 0, before training (`[NODE] evaluate_at_start`).
    case evaluation
    case peerDown = "peer_down"
    case peerUp = "peer_up"
    /// The first reject of a kind from a peer (later ones are only counted).
    case rejected
    case checkpoint
    /// The run ended for this node; `outcome` says how.
    case end
  }

  public var kind: Kind
  public var uid: Int
  /// Seconds since this node started.
  public var time: Double
  /// Unix time, for lining up nodes on different machines.
  public var wall: Double
  /// The node's round or step.
  public var round: Int

  // kind == .round (and .evaluation: the test figures)
  public var iterations: Int?
  public var trainLoss: Double?
  public var testLoss: Double?
  public var testAcc: Double?
  public var testRMSE: Double?
  public var bytesSent: Int?
  public var metaSent: Int?
  public var trainTime: Double?
  public var communicateTime: Double?
  public var averageTime: Double?
  public var evaluateTime: Double?
  public var mixedWith: [Int]?
  public var liveNeighbours: [Int]?

  // kind == .peerDown, .peerUp, .rejected
  public var peer: Int?
  public var reason: String?

  // kind == .start, .end
  public var outcome: String?
  public var resumedFrom: Int?

  public init(kind: Kind, uid: Int, time: Double, round: Int) {
    self.kind = kind
    self.uid = uid
    self.time = time
    self.round = round
    wall = Date().timeIntervalSince1970
  }

  enum CodingKeys: String, CodingKey {
    case kind, uid, time, wall, round, iterations
    case trainLoss = "train_loss"
    case testLoss = "test_loss"
    case testAcc = "test_acc"
    case testRMSE = "test_rmse"
    case bytesSent = "bytes_sent"
    case metaSent = "meta_sent"
    case trainTime = "train_time"
    case communicateTime = "communicate_time"
    case averageTime = "average_time"
    case evaluateTime = "evaluate_time"
    case mixedWith = "mixed_with"
    case liveNeighbours = "live_neighbours"
    case peer, reason, outcome
    case resumedFrom = "resumed_from"
  }
}

/// Appends `NodeEvent`s to a file, one JSON object per line, each line written whole with one
/// `write(2)` so a reader never sees half a line and a killed node loses nothing it logged.
public final class EventLog {
  private let handle: FileHandle?
  private let encoder: JSONEncoder

  /// Opens `path` for appending (creating it); nil writes nothing.
  public init(path: String?) {
    encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    guard let path else {
      handle = nil
      return
    }
    if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    handle = FileHandle(forWritingAtPath: path)
    _ = try? handle?.seekToEnd()
  }

  public func append(_ event: NodeEvent) {
    guard let handle, var data = try? encoder.encode(event) else { return }
    data.append(0x0A)
    try? handle.write(contentsOf: data)
  }

  /// Reads every event of a file; a torn last line (a node killed mid-write) is ignored.
  public static func read(path: String) throws -> [NodeEvent] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    var events: [NodeEvent] = []
    for line in data.split(separator: 0x0A) where !line.isEmpty {
      if let e = try? decoder.decode(NodeEvent.self, from: Data(line)) { events.append(e) }
    }
    return events
  }
}
