import Datasets
import Models
import Numerics
import XCTest

@testable import Learning

/// One process, no network: logistic regression on a slice of real MNIST learns.
final class SingleProcessMNISTTests: XCTestCase {
  func testLogisticRegressionOnAnMNISTSliceExceeds85Percent() throws {
    guard let dir = DataLocator.resolve("mnist") else {
      throw XCTSkip("MNIST not found in $PEERD_DATA, ./data or ../shared/data; run scripts/download_datasets.sh")
    }
    // Node 0 of 6: a 10,000-image IID slice of the training set; the full 10,000-image test set.
    let shard = try DatasetRegistry.load(DatasetSettings(name: "MNIST", trainDir: dir, testDir: dir), node: 0, nodes: 6)
    var rng = RandomStreams(seed: 1).stream(.initialization)
    let model = try ModelRegistry.make(
      ModelSettings(name: "LogisticRegression", inputShape: [1, 28, 28], classes: 10), rng: &rng)
    let sgd = try OptimizerRegistry.make(OptimizerSettings(learningRate: 0.05), parameterCount: model.parameterCount)
    let evaluator = Evaluator(test: shard.test, train: shard.train, batchSize: 1000)
    let before = evaluator.test(model)
    var iterator = BatchIterator(source: shard.train, batchSize: 16, shuffle: true, rng: Xoshiro256(seed: 2))
    var batch = Batch()
    for _ in 0..<2 {
      while iterator.next(into: &batch) {
        _ = model.computeGradients(batch)
        sgd.step(model)
      }
    }
    let after = evaluator.test(model)
    XCTAssertLessThan(after.meanLoss, before.meanLoss / 3)
    XCTAssertGreaterThan(after.accuracy, 0.85, "test accuracy \(after.accuracy)")
  }
}
