import Datasets
import Models
import Numerics

/// Loss and accuracy (or RMSE) of a model over a whole sample source, in fixed-size batches.
///
/// Evaluation walks the samples in order, so its result depends only on the model: two runs with
/// the same seed record the same numbers.
public final class Evaluator {
  let testSource: any SampleSource
  let trainSource: any SampleSource
  /// Held-out samples (`validation_size`), evaluated alongside the test set when present.
  public let validationSource: (any SampleSource)?
  let batchSize: Int
  private var batch = Batch()
  /// 0..<n for the largest source seen, sliced per batch (no allocation per evaluation).
  private var indices: [Int] = []

  public init(test: any SampleSource, train: any SampleSource, validation: (any SampleSource)? = nil, batchSize: Int) {
    testSource = test
    trainSource = train
    validationSource = validation
    self.batchSize = max(1, batchSize)
  }

  /// `between` runs after every batch (the node serves the network there).
  public func test(_ model: any Model, between: () -> Void = {}) -> EvaluationTally {
    tally(model, over: testSource, between: between)
  }

  public func validate(_ model: any Model, between: () -> Void = {}) -> EvaluationTally? {
    validationSource.map { tally(model, over: $0, between: between) }
  }

  /// Mean loss over this node's training samples (decentralizepy's `train_loss`).
  public func trainLoss(_ model: any Model, between: () -> Void = {}) -> Double {
    tally(model, over: trainSource, between: between).meanLoss
  }

  func tally(_ model: any Model, over source: any SampleSource, between: () -> Void) -> EvaluationTally {
    var tally = EvaluationTally()
    var start = 0
    if indices.count < source.count { indices = Array(0..<source.count) }
    while start < source.count {
      let end = min(start + batchSize, source.count)
      source.fill(&batch, indices: indices[start..<end])
      model.evaluate(batch, into: &tally)
      start = end
      between()
    }
    return tally
  }
}
