import Foundation
import Models
import Numerics
import Transport

/// Keeps a node's `NodeResults` in memory and writes `<uid>_results.json` atomically.
///
/// The file is rewritten from memory (never re-read) at each evaluation, checkpoint and at the
/// end: temp file, fsync, rename, so a reader never sees half a file and a crash leaves the last
/// complete one. Per-round detail goes to the events log as it happens.
public final class ResultsRecorder {
  public private(set) var results: NodeResults
  let path: String?
  let isRegression: Bool
  /// Rounds in ascending order, as decentralizepy's eval/plot.py needs them (OrderedJSONEncoder).
  private let encoder = OrderedJSONEncoder(pretty: true)

  public init(path: String?, isRegression: Bool, results: NodeResults = NodeResults()) {
    self.path = path
    self.isRegression = isRegression
    self.results = results
  }

  /// Replaces the whole record (resuming from a checkpoint).
  func restore(_ saved: NodeResults) { results = saved }

  func update(_ body: (inout NodeResults) -> Void) { body(&results) }

  /// Records the traffic totals of a finished round.
  func recordTraffic(_ round: Int, ledger: TrafficLedger) {
    let sent = ledger.totalSent
    results.totalBytes[round] = sent.data + sent.metadata
    results.totalMeta[round] = sent.metadata
    results.totalDataPerN[round] = sent.data
    var perPeer: [String: NeighbourTraffic] = [:]
    for peer in Set(ledger.sentByPeer.keys).union(ledger.receivedByPeer.keys) {
      var t = NeighbourTraffic()
      let s = ledger.sentByPeer[peer] ?? .init()
      let r = ledger.receivedByPeer[peer] ?? .init()
      t.sentData = s.data
      t.sentMeta = s.metadata
      t.sentMessages = s.messages
      t.receivedData = r.data
      t.receivedMeta = r.metadata
      t.receivedMessages = r.messages
      perPeer[String(peer)] = t
    }
    results.neighbourBytes = perPeer
  }

  /// Records a test-set evaluation: decentralizepy's `test_loss` is the RMSE for regression
  /// models (MovieLens) and the mean cross-entropy otherwise; `test_acc` is the accuracy in %
  /// (for MovieLens: predictions rounded to the nearest half star that match the rating).
  func recordTest(_ round: Int, _ tally: EvaluationTally) {
    if isRegression {
      results.testLoss[round] = tally.rmse
      results.testRMSE[round] = tally.rmse
    } else {
      results.testLoss[round] = tally.meanLoss
    }
    results.testAcc[round] = 100 * tally.accuracy
  }

  func recordValidation(_ round: Int, _ tally: EvaluationTally) {
    results.validationLoss[round] = isRegression ? tally.rmse : tally.meanLoss
    if isRegression { results.validationRMSE[round] = tally.rmse }
    results.validationAcc[round] = 100 * tally.accuracy
  }

  /// One line for logs and progress: the latest test figures.
  var lastTestSummary: String? {
    guard let round = results.testLoss.rounds.last else { return nil }
    if isRegression { return String(format: "test_rmse=%.4f", results.testRMSE[round] ?? .nan) }
    return String(
      format: "test_loss=%.4f test_acc=%.2f", results.testLoss[round] ?? .nan, results.testAcc[round] ?? .nan)
  }

  /// The document as it would be written.
  func encoded() throws -> Data { try encoder.encode(results) }

  /// Writes the file atomically. Failures are returned, not thrown: results that cannot be
  /// written are reported but do not stop training.
  @discardableResult
  func flush() -> String? {
    guard let path else { return nil }
    do {
      var data = try encoded()
      data.append(0x0A)
      try FileSystem.write([UInt8](data), to: path, for: "write the results")
      return nil
    } catch {
      return "\(error)"
    }
  }
}
