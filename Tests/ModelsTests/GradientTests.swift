import Numerics
import XCTest

@testable import Models

/// Helpers shared by the model tests.
extension XCTestCase {
  func classificationBatch(count: Int, shape: [Int], classes: Int, seed: UInt64) -> Batch {
    var rng = Xoshiro256(seed: seed)
    var b = Batch()
    b.count = count
    b.inputShape = shape
    b.inputs = (0..<(count * shape.reduce(1, *))).map { _ in rng.uniform(-1, 1) }
    b.labels = (0..<count).map { _ in Int32(rng.nextInt(below: classes)) }
    return b
  }

  /// Checks `samples` random coordinates (plus the first and last) of the gradient.
  func checkGradients(
    _ model: any Model, _ batch: Batch, samples: Int = 60, eps: Float = 1e-2, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    _ = model.computeGradients(batch)
    let analytic = model.gradients.array
    var rng = Xoshiro256(seed: 99)
    var coords = [0, model.parameterCount - 1]
    coords += (0..<samples).map { _ in rng.nextInt(below: model.parameterCount) }
    var bad: [String] = []
    for i in coords {
      let saved = model.parameters[i]
      model.parameters[i] = saved + eps
      let up = Double(model.computeGradients(batch))
      model.parameters[i] = saved - eps
      let down = Double(model.computeGradients(batch))
      model.parameters[i] = saved
      let numeric = (up - down) / Double(2 * eps)
      let a = Double(analytic[i])
      if abs(numeric - a) > 2e-3 + 0.05 * max(abs(numeric), abs(a)) {
        bad.append("p[\(i)] analytic \(a) numeric \(numeric)")
      }
    }
    // Max-pool and ReLU kinks may spoil an occasional coordinate; a wrong gradient spoils many.
    XCTAssertLessThanOrEqual(bad.count, coords.count / 20, "\(model.name): \(bad.prefix(5))", file: file, line: line)
  }
}

/// Analytic gradients against central finite differences of the loss.
final class GradientTests: XCTestCase {
  func testLinearAndSoftmaxCrossEntropy() throws {
    var rng = Xoshiro256(seed: 1)
    let model = try ModelRegistry.make(
      ModelSettings(name: "LogisticRegression", inputShape: [12], classes: 5), rng: &rng)
    checkGradients(model, classificationBatch(count: 7, shape: [12], classes: 5, seed: 2), eps: 1e-3)
  }

  func testMLPWithReLU() throws {
    var rng = Xoshiro256(seed: 3)
    let model = try ModelRegistry.make(
      ModelSettings(name: "MLP", inputShape: [10], classes: 4, hiddenSizes: [8, 6]), rng: &rng)
    checkGradients(model, classificationBatch(count: 5, shape: [10], classes: 4, seed: 4), eps: 1e-3)
  }

  func testConvolutionWithPaddingStrideAndPooling() throws {
    var rng = Xoshiro256(seed: 5)
    let layers: [any Layer] = [
      Conv2d(2, 3, kernel: 3, stride: 1, padding: 1), ReLU(), MaxPool2d(2),
      Conv2d(3, 4, kernel: 3, stride: 2, padding: 1), ReLU(), Linear(4 * 2 * 2, 3),
    ]
    let model = try Sequential(
      name: "conv-test", inputShape: [2, 8, 8], layers: layers, loss: .crossEntropy, rng: &rng)
    checkGradients(
      model, classificationBatch(count: 3, shape: [2, 8, 8], classes: 3, seed: 6), samples: 120, eps: 1e-3)
  }

  func testMeanSquaredErrorHead() throws {
    var rng = Xoshiro256(seed: 7)
    let model = try Sequential(
      name: "regression", inputShape: [6], layers: [Linear(6, 1)], loss: .meanSquaredError, rng: &rng)
    var b = classificationBatch(count: 4, shape: [6], classes: 2, seed: 8)
    b.targets = [0.5, -1, 2, 0]
    checkGradients(model, b, eps: 1e-3)
  }

  func testMatrixFactorizationSparseGradient() throws {
    var rng = Xoshiro256(seed: 9)
    let model = try MatrixFactorization(users: 6, items: 9, dimension: 4, rng: &rng)
    var b = Batch()
    b.count = 5
    b.indices = [0, 1, 2, 3, 0, 8, 5, 1, 2, 3]  // repeated user 0, item 1, pair (2,3)
    b.targets = [4, 3.5, 1, 5, 2]
    checkGradients(model, b, samples: 80, eps: 1e-2)
    // Sparse: only the touched rows are reported, and untouched entries stay zero.
    _ = model.computeGradients(b)
    let sparse = try XCTUnwrap(model.sparseGradient)
    let covered = Set(sparse.ranges.flatMap { Array($0) })
    for i in 0..<model.parameterCount where !covered.contains(i) { XCTAssertEqual(model.gradients[i], 0) }
    XCTAssertTrue(covered.contains(1 * 4 + 0) == false, "user 1 was not in the batch")
    // A second batch zeroes what the first wrote.
    var c = Batch()
    c.count = 1
    c.indices = [4, 4]
    c.targets = [3]
    _ = model.computeGradients(c)
    XCTAssertEqual(model.gradients[0], 0)
  }
}

final class ModelZooTests: XCTestCase {
  func make(_ name: String, _ shape: [Int], classes: Int = 0) throws -> any Model {
    var rng = Xoshiro256(seed: 1)
    return try ModelRegistry.make(ModelSettings(name: name, inputShape: shape, classes: classes), rng: &rng)
  }

  func testParameterCountsMatchDecentralizepy() throws {
    XCTAssertEqual(try make("CNN", [1, 28, 28], classes: 62).parameterCount, 1_690_046)
    XCTAssertEqual(try make("FemnistCNN", [1, 28, 28], classes: 62).parameterCount, 1_690_046)
    // 4 × conv3×3 (896 + 3 × 9248) + 800·2 + 2
    XCTAssertEqual(try make("CNN", [3, 84, 84], classes: 2).parameterCount, 896 + 3 * 9248 + 1602)
    XCTAssertEqual(try make("LogisticRegression", [1, 28, 28], classes: 10).parameterCount, 7850)
    XCTAssertEqual(try make("LeNet", [3, 32, 32], classes: 10).parameterCount, 2432 + 25632 + 51264 + 10250)
    var rng = Xoshiro256(seed: 1)
    let mf = try ModelRegistry.make(ModelSettings(name: "MatrixFactorization", users: 610, items: 9724), rng: &rng)
    XCTAssertEqual(mf.parameterCount, (610 + 9724) * 21 + 1)
    XCTAssertThrowsError(try make("ResNet", [1])) { XCTAssertTrue("\($0)".contains("supported: LogisticRegression")) }
  }

  func testCNNForwardShapesRun() throws {
    for (name, shape, classes) in [("CNN", [1, 28, 28], 62), ("CNN", [3, 84, 84], 2), ("LeNet", [3, 32, 32], 10)] {
      let model = try make(name, shape, classes: classes)
      var b = Batch()
      b.count = 2
      b.inputShape = shape
      b.inputs = [Float](repeating: 0.5, count: 2 * shape.reduce(1, *))
      b.labels = [0, 1]
      let loss = model.computeGradients(b)
      XCTAssertTrue(loss.isFinite && loss > 0)
    }
  }
}

final class ConvChunkingTests: XCTestCase {
  /// A batch larger than the conv chunk (16) gives the same outputs as samples one by one.
  func testBatchedConvolutionMatchesPerSample() throws {
    var rng = Xoshiro256(seed: 12)
    let model = try Sequential(
      name: "chunk", inputShape: [1, 6, 6],
      layers: [Conv2d(1, 3, kernel: 3, padding: 1), ReLU(), MaxPool2d(2), Linear(27, 4)], loss: .crossEntropy, rng: &rng
    )
    var all = Batch()
    all.count = 21
    all.inputShape = [1, 6, 6]
    all.inputs = (0..<(21 * 36)).map { _ in rng.uniform(-1, 1) }
    let together = model.predict(all)
    for s in 0..<21 {
      var one = Batch()
      one.count = 1
      one.inputShape = [1, 6, 6]
      one.inputs = Array(all.inputs[(s * 36)..<((s + 1) * 36)])
      let alone = model.predict(one)
      for c in 0..<4 { XCTAssertEqual(together[s * 4 + c], alone[c], accuracy: 1e-5) }
    }
  }
}
