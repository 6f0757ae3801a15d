import Foundation
import Models
import Numerics
import Transport

/// A node's `<uid>_results.json`, compatible with decentralizepy's results files.
///
/// decentralizepy's keys are kept, each a map from iteration (as a string) to a value:
/// `train_loss`, `test_loss`, `test_acc`, `total_bytes`, `total_meta`, `total_data_per_n`.
/// peerd adds `elapsed_time` (seconds since start, monotonic), `round_time`, `test_rmse` for
/// regression models, and a final `neighbour_bytes` table. The file is rewritten atomically from
/// memory at each evaluation and at the end; it is never re-read.
public final class ResultsRecorder {
  /// A JSON value with a deterministic serialisation (ordered keys, shortest float repr).
  public indirect enum JSONValue {
    case int(Int)
    case double(Double)
    case string(String)
    case object([String: JSONValue])
    case array([JSONValue])
  }

  let path: String?
  let isRegression: Bool
  private var series: [String: [Int: JSONValue]] = [:]
  private var neighbourBytes: [Int: TrafficLedger.Counters] = [:]
  private var sentCounters: [Int: TrafficLedger.Counters] = [:]
  private var startupSeconds = 0.0
  public private(set) var lastTestSummary: String?

  public init(path: String?, isRegression: Bool) {
    self.path = path
    self.isRegression = isRegression
  }

  func markStart(elapsed: Double) { startupSeconds = elapsed }

  func recordRound(_ round: Int, elapsed: Double, roundTime: Double, ledger: TrafficLedger) {
    let sent = ledger.totalSent
    series["total_bytes", default: [:]][round] = .int(sent.data + sent.metadata)
    series["total_meta", default: [:]][round] = .int(sent.metadata)
    series["total_data_per_n", default: [:]][round] = .int(sent.data)
    series["elapsed_time", default: [:]][round] = .double(elapsed)
    series["round_time", default: [:]][round] = .double(roundTime)
    neighbourBytes = ledger.receivedByPeer
    sentCounters = ledger.sentByPeer
  }

  func recordTrainLoss(_ round: Int, _ loss: Double) {
    series["train_loss", default: [:]][round] = .double(loss)
  }

  /// Mean mini-batch loss of the round's local steps (cheap; recorded every round).
  func recordBatchLoss(_ round: Int, _ loss: Double) {
    series["train_batch_loss", default: [:]][round] = .double(loss)
  }

  func recordValidation(_ round: Int, _ tally: EvaluationTally) {
    series["validation_loss", default: [:]][round] = .double(tally.meanLoss)
    series[isRegression ? "validation_rmse" : "validation_acc", default: [:]][round] =
      .double(isRegression ? tally.rmse : 100 * tally.accuracy)
  }

  func recordTest(_ round: Int, _ tally: EvaluationTally) {
    series["test_loss", default: [:]][round] = .double(tally.meanLoss)
    if isRegression {
      series["test_rmse", default: [:]][round] = .double(tally.rmse)
      series["test_acc", default: [:]][round] = .double(0)
      lastTestSummary = String(format: "test_loss=%.4f test_rmse=%.4f", tally.meanLoss, tally.rmse)
    } else {
      series["test_acc", default: [:]][round] = .double(100 * tally.accuracy)
      lastTestSummary = String(format: "test_loss=%.4f test_acc=%.2f", tally.meanLoss, 100 * tally.accuracy)
    }
  }

  /// The whole results document.
  func document(extra: [String: JSONValue]) -> JSONValue {
    var root: [String: JSONValue] = extra
    for (key, values) in series {
      var object: [String: JSONValue] = [:]
      for (round, v) in values { object[String(round)] = v }
      root[key] = .object(object)
    }
    var perNeighbour: [String: JSONValue] = [:]
    for peer in Set(neighbourBytes.keys).union(sentCounters.keys) {
      let r = neighbourBytes[peer] ?? .init()
      let s = sentCounters[peer] ?? .init()
      perNeighbour[String(peer)] = .object([
        "sent_data": .int(s.data), "sent_meta": .int(s.metadata), "sent_messages": .int(s.messages),
        "received_data": .int(r.data), "received_meta": .int(r.metadata), "received_messages": .int(r.messages),
      ])
    }
    root["neighbour_bytes"] = .object(perNeighbour)
    root["startup_time"] = .double(startupSeconds)
    return .object(root)
  }

  /// Writes the file atomically (temp file + rename) so a reader never sees half a file.
  func flush(extra: [String: JSONValue]) {
    guard let path else { return }
    var text = ""
    Self.serialise(document(extra: extra), into: &text, indent: 0)
    text += "\n"
    let tmp = path + ".tmp"
    do {
      try text.write(toFile: tmp, atomically: false, encoding: .utf8)
      if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
      try FileManager.default.moveItem(atPath: tmp, toPath: path)
    } catch {
      StandardError.write("peerd: could not write results to \(path): \(error)")
    }
  }

  static func serialise(_ value: JSONValue, into out: inout String, indent: Int) {
    switch value {
    case .int(let i): out += String(i)
    case .double(let d): out += d.isFinite ? "\(d)" : "null"
    case .string(let s): out += quote(s)
    case .array(let items):
      out += "["
      for (k, item) in items.enumerated() {
        if k > 0 { out += ", " }
        serialise(item, into: &out, indent: indent)
      }
      out += "]"
    case .object(let object):
      // Numeric keys sort numerically (iterations), others alphabetically.
      let keys = object.keys.sorted { a, b in
        if let x = Int(a), let y = Int(b) { return x < y }
        return a < b
      }
      out += "{"
      for (k, key) in keys.enumerated() {
        out += k > 0 ? ",\n" : "\n"
        out += String(repeating: "  ", count: indent + 1) + quote(key) + ": "
        serialise(object[key]!, into: &out, indent: indent + 1)
      }
      out += keys.isEmpty ? "}" : "\n" + String(repeating: "  ", count: indent) + "}"
    }
  }

  static func quote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          out += String(format: "\\u%04x", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}
