/// A per-round number of `NodeResults` that reports and plots aggregate across nodes, named by
/// its key in `<uid>_results.json`.
///
/// One list of names for `peerctl report`'s columns, `peerctl plot --x/--y` and the CSV headers,
/// so a key is spelt once (docs/algorithms.md, "Results", says what each holds).
public enum ResultsMetric: String, CaseIterable, Codable, Sendable {
  case trainLoss = "train_loss"
  case trainBatchLoss = "train_batch_loss"
  case testLoss = "test_loss"
  case testAcc = "test_acc"
  case testRMSE = "test_rmse"
  case totalBytes = "total_bytes"
  case totalMeta = "total_meta"
  case totalDataPerN = "total_data_per_n"
  case elapsedTime = "elapsed_time"
}

extension NodeResults {
  /// The series of `metric`, by round, as numbers.
  public func series(_ metric: ResultsMetric) -> [Int: Double] {
    switch metric {
    case .trainLoss: return trainLoss.values
    case .trainBatchLoss: return trainBatchLoss.values
    case .testLoss: return testLoss.values
    case .testAcc: return testAcc.values
    case .testRMSE: return testRMSE.values
    case .totalBytes: return totalBytes.values.mapValues(Double.init)
    case .totalMeta: return totalMeta.values.mapValues(Double.init)
    case .totalDataPerN: return totalDataPerN.values.mapValues(Double.init)
    case .elapsedTime: return elapsedTime.values
    }
  }

  /// Whether this node trained a regression model (MovieLens): it records `test_rmse`.
  public var isRegression: Bool { !testRMSE.isEmpty || !validationRMSE.isEmpty }

  /// The highest round this node recorded (0 before its first).
  public var lastRound: Int { max(elapsedTime.rounds.last ?? 0, testLoss.rounds.last ?? 0) }
}
