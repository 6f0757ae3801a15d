import Foundation
import Numerics
import XCTest

@testable import Models

final class TrainingTests: XCTestCase {
  /// Four Gaussian blobs in 8 dimensions.
  func blobs(_ n: Int, seed: UInt64) -> Batch {
    var rng = Xoshiro256(seed: seed)
    var centres = Xoshiro256(seed: 1234)
    let means = (0..<4).map { _ in (0..<8).map { _ in Float(3 * centres.normal()) } }
    var b = Batch()
    b.count = n
    b.inputShape = [8]
    for _ in 0..<n {
      let c = rng.nextInt(below: 4)
      b.labels.append(Int32(c))
      for d in 0..<8 { b.inputs.append(means[c][d] + Float(rng.normal())) }
    }
    return b
  }

  func train(_ name: String, optimizer: String, seed: UInt64 = 1, steps: Int = 300) throws -> (
    any Model, first: Float, last: Float
  ) {
    var rng = Xoshiro256(seed: seed)
    let model = try ModelRegistry.make(
      ModelSettings(name: name, inputShape: [8], classes: 4, hiddenSizes: [16]), rng: &rng)
    let opt = try OptimizerRegistry.make(
      OptimizerSettings(
        name: optimizer, learningRate: optimizer == "Adam" ? 0.01 : 0.1, momentum: optimizer == "SGD" ? 0.5 : 0),
      parameterCount: model.parameterCount)
    let data = blobs(640, seed: 5)
    var first: Float = 0
    var last: Float = 0
    for step in 0..<steps {
      let start = (step * 16) % 640
      var batch = Batch()
      batch.count = 16
      batch.inputShape = [8]
      batch.inputs = Array(data.inputs[(start * 8)..<((start + 16) * 8)])
      batch.labels = Array(data.labels[start..<(start + 16)])
      let loss = model.computeGradients(batch)
      opt.step(model)
      if step == 0 { first = loss }
      last = loss
    }
    return (model, first, last)
  }

  func testLossFallsAndAccuracyRises() throws {
    for (name, opt) in [("LogisticRegression", "SGD"), ("MLP", "SGD"), ("MLP", "Adam")] {
      let (model, first, last) = try train(name, optimizer: opt)
      XCTAssertLessThan(last, first * 0.5, "\(name)/\(opt)")
      var tally = EvaluationTally()
      model.evaluate(blobs(400, seed: 77), into: &tally)
      XCTAssertGreaterThan(tally.accuracy, 0.95, "\(name)/\(opt)")
    }
  }

  func testSameSeedIsBitIdenticalOtherSeedIsNot() throws {
    let a = try train("MLP", optimizer: "SGD", seed: 4, steps: 50).0.parameters.array
    let b = try train("MLP", optimizer: "SGD", seed: 4, steps: 50).0.parameters.array
    let c = try train("MLP", optimizer: "SGD", seed: 5, steps: 50).0.parameters.array
    XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
    XCTAssertNotEqual(a, c)
  }

  func testMatrixFactorizationLearnsRatings() throws {
    var rng = Xoshiro256(seed: 3)
    let model = try MatrixFactorization(users: 30, items: 40, dimension: 4, rng: &rng)
    let opt = SGD(OptimizerSettings(learningRate: 0.1))
    var data = Xoshiro256(seed: 8)
    let u = (0..<30).map { _ in (0..<2).map { _ in Float(data.normal()) } }
    let v = (0..<40).map { _ in (0..<2).map { _ in Float(data.normal()) } }
    var all = Batch()
    for user in 0..<30 {
      for item in 0..<40 where data.nextDouble() < 0.5 {
        all.indices += [Int32(user), Int32(item)]
        all.targets.append(3.5 + u[user][0] * v[item][0] + u[user][1] * v[item][1])
      }
    }
    all.count = all.targets.count
    var before = EvaluationTally()
    model.evaluate(all, into: &before)
    for epoch in 0..<60 {
      _ = epoch
      var s = 0
      while s + 16 <= all.count {
        var b = Batch()
        b.count = 16
        b.indices = Array(all.indices[(2 * s)..<(2 * s + 32)])
        b.targets = Array(all.targets[s..<(s + 16)])
        _ = model.computeGradients(b)
        opt.step(model)
        s += 16
      }
    }
    var after = EvaluationTally()
    model.evaluate(all, into: &after)
    XCTAssertLessThan(after.rmse, 0.5 * before.rmse)
  }

  /// decentralizepy's MovieLens accuracy: a prediction counts when, clamped to [0.5, 5] and
  /// rounded to the nearest half star (ties to even, as torch.round), it equals the rating.
  func testMatrixFactorizationCountsHalfStarAccuracy() throws {
    var rng = Xoshiro256(seed: 1)
    let predictions: [Float] = [3.24, 3.26, 3.25, 3.75, 5.7, -1, 3.74, 2.2]
    let ratings: [Float] = [3.0, 3.5, 3.0, 4.0, 5.0, 0.5, 4.0, 2.5]
    let model = try MatrixFactorization(users: 1, items: predictions.count, dimension: 1, rng: &rng)
    for i in 0..<model.parameterCount { model.parameters[i] = 0 }
    // Item biases follow the embeddings (1 + n) and the one user bias.
    for (i, p) in predictions.enumerated() { model.parameters[1 + predictions.count + 1 + i] = p }
    var batch = Batch()
    batch.count = predictions.count
    for i in 0..<predictions.count { batch.indices += [0, Int32(i)] }
    batch.targets = ratings
    var tally = EvaluationTally()
    model.evaluate(batch, into: &tally)
    // 3.75·2 = 7.5 rounds to 8 (even): 4.0 matches; 3.74 → 3.5 and 2.2 → 2.0 do not.
    XCTAssertEqual(tally.correct, 6)
    XCTAssertEqual(tally.count, 8)
    let squared = zip(predictions, ratings).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
    XCTAssertEqual(tally.squaredError, squared, accuracy: 1e-9)
  }
}

final class OptimizerTests: XCTestCase {
  final class Fixed: Model {
    let name = "fixed"
    let parameters = FloatBuffer([1, -2])
    let gradients = FloatBuffer([0.5, 1])
    var layout: [ParameterTensor] { [] }
    var lossKind: LossKind { .meanSquaredError }
    var parameterCount: Int { 2 }
    var sparseGradient: SparseGradient? { nil }
    func computeGradients(_ batch: Batch) -> Float { 0 }
    func evaluate(_ batch: Batch, into tally: inout EvaluationTally) {}
  }

  /// PyTorch's formulas, computed by hand for two steps.
  func testSGDMomentumWeightDecayByHand() {
    let m = Fixed()
    let sgd = SGD(OptimizerSettings(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01))
    sgd.step(m)
    // d = 0.5 + 0.01·1 = 0.51; buf = 0.51; p = 1 − 0.051
    XCTAssertEqual(m.parameters[0], 0.949, accuracy: 1e-6)
    sgd.step(m)
    // d = 0.5 + 0.00949; buf = 0.9·0.51 + 0.50949 = 0.96849; p = 0.949 − 0.096849
    XCTAssertEqual(m.parameters[0], 0.949 - 0.096849, accuracy: 1e-6)
    sgd.reset()
    let before = m.parameters[0]
    sgd.step(m)
    XCTAssertEqual(m.parameters[0], before - 0.1 * (0.5 + 0.01 * before), accuracy: 1e-6, "reset clears momentum")
  }

  func testAdamFirstStepIsLearningRateTimesSign() {
    let m = Fixed()
    let adam = Adam(OptimizerSettings(name: "Adam", learningRate: 0.01))
    adam.step(m)
    XCTAssertEqual(m.parameters[0], 1 - 0.01, accuracy: 1e-5)
    XCTAssertEqual(m.parameters[1], -2 - 0.01, accuracy: 1e-5)
  }

  func testModelFileRoundTripAndRejection() throws {
    var rng = Xoshiro256(seed: 1)
    let a = try ModelRegistry.make(ModelSettings(name: "LogisticRegression", inputShape: [784], classes: 10), rng: &rng)
    let b = try ModelRegistry.make(ModelSettings(name: "LogisticRegression", inputShape: [784], classes: 10), rng: &rng)
    let path = NSTemporaryDirectory() + "w-\(UUID().uuidString).bin"
    try ModelFile.save(a, to: path)
    XCTAssertNotEqual(a.parameters.array, b.parameters.array)
    try ModelFile.load(into: b, from: path)
    XCTAssertEqual(a.parameters.array, b.parameters.array)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try ModelFile.load(into: b, from: path)) { XCTAssertTrue("\($0)".contains("truncated")) }
    try Data("nope".utf8).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try ModelFile.load(into: b, from: path)) { XCTAssertTrue("\($0)".contains("bad magic")) }
    let mlp = try ModelRegistry.make(ModelSettings(name: "MLP", inputShape: [4], classes: 2), rng: &rng)
    try ModelFile.save(mlp, to: path)
    XCTAssertThrowsError(try ModelFile.load(into: b, from: path)) { XCTAssertTrue("\($0)".contains("parameters")) }
  }
}

final class ModelBoundsTests: XCTestCase {
  func testOversizedAndDegenerateModelsAreErrorsBeforeAllocation() {
    var rng = Xoshiro256(seed: 1)
    let huge = ModelSettings(name: "MLP", inputShape: [784], classes: 10, hiddenSizes: [100_000, 100_000])
    XCTAssertThrowsError(try ModelRegistry.make(huge, rng: &rng)) {
      XCTAssertEqual(($0 as? ModelError)?.kind, .tooLarge)
      XCTAssertEqual("\($0)", "MLP would have 10079600010 parameters; the most peerd builds is 268435456")
    }
    for widths in [[0], [], [200, -1]] {
      XCTAssertThrowsError(
        try ModelRegistry.make(
          ModelSettings(name: "MLP", inputShape: [784], classes: 10, hiddenSizes: widths), rng: &rng)
      ) { XCTAssertEqual(($0 as? ModelError)?.kind, .invalid, "\(widths)") }
    }
    XCTAssertThrowsError(try MatrixFactorization(users: 1 << 20, items: 1 << 20, dimension: 10_000, rng: &rng)) {
      XCTAssertEqual(($0 as? ModelError)?.kind, .tooLarge)
    }
  }
}
