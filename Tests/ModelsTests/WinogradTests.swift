import Numerics
import XCTest

@testable import Models

/// The Winograd F(2×2, 5×5) path of Conv2d against the im2col path and against finite
/// differences, on shapes that exercise odd outputs, several vectors per tile row, zero padding
/// and batches that leave a partial group.
final class WinogradTests: XCTestCase {
  /// (input channels, output channels, input [H, W], padding)
  let shapes: [(Int, Int, [Int], Int)] = [
    (8, 5, [14, 14], 2),  // FEMNIST's geometry: 7 tiles a row, one partial vector
    (8, 3, [9, 19], 2),  // odd outputs 9×19: 10 tiles a row, a full vector and a partial one
    (12, 4, [7, 8], 0),  // no padding: outputs 3×4
    (9, 2, [20, 20], 2),  // 10×10 tiles: two vectors a row
  ]

  private func pair(_ shape: (Int, Int, [Int], Int), seed: UInt64) throws -> (Sequential, Sequential, Conv2d) {
    let (inChannels, outChannels, size, padding) = shape
    let outputs = outChannels * (size[0] + 2 * padding - 4) * (size[1] + 2 * padding - 4)
    var rngA = Xoshiro256(seed: seed)
    var rngB = Xoshiro256(seed: seed)
    let conv = Conv2d(inChannels, outChannels, kernel: 5, padding: padding)
    // A 3×3 convolution in front, so the 5×5 one's input gradient is needed and checked too.
    let winograd = try Sequential(
      name: "winograd", inputShape: [inChannels] + size,
      layers: [Conv2d(inChannels, inChannels, kernel: 3, padding: 1), conv, Linear(outputs, 3)],
      loss: .crossEntropy, rng: &rngA)
    let reference = try Sequential(
      name: "im2col", inputShape: [inChannels] + size,
      layers: [
        Conv2d(inChannels, inChannels, kernel: 3, padding: 1),
        Conv2d(inChannels, outChannels, kernel: 5, padding: padding, algorithm: .im2col), Linear(outputs, 3),
      ],
      loss: .crossEntropy, rng: &rngB)
    return (winograd, reference, conv)
  }

  func testWinogradMatchesIm2col() throws {
    for (index, shape) in shapes.enumerated() {
      let (winograd, reference, conv) = try pair(shape, seed: 40 + UInt64(index))
      XCTAssertTrue(String(describing: conv).hasSuffix("Winograd)"), "\(conv) took im2col")
      XCTAssertEqual(winograd.parameters.array, reference.parameters.array)
      for count in [1, 5, 9] {
        let b = classificationBatch(count: count, shape: [shape.0] + shape.2, classes: 3, seed: 50 + UInt64(count))
        assertClose(winograd.predict(b), reference.predict(b), "\(shape) batch \(count) outputs")
        _ = winograd.computeGradients(b)
        _ = reference.computeGradients(b)
        assertClose(winograd.gradients.array, reference.gradients.array, "\(shape) batch \(count) gradients")
      }
    }
  }

  /// The full FEMNIST CNN, where the second convolution is Winograd's.
  func testFemnistCNNMatchesIm2col() throws {
    var rngA = Xoshiro256(seed: 60)
    var rngB = Xoshiro256(seed: 60)
    let fast = try ModelRegistry.make(ModelSettings(name: "CNN", inputShape: [1, 28, 28], classes: 62), rng: &rngA)
    let reference = try ModelRegistry.make(
      ModelSettings(name: "CNN", inputShape: [1, 28, 28], classes: 62, convolution: .im2col), rng: &rngB)
    let b = classificationBatch(count: 6, shape: [1, 28, 28], classes: 62, seed: 61)
    XCTAssertEqual(fast.computeGradients(b), reference.computeGradients(b), accuracy: 1e-5)
    assertClose(fast.gradients.array, reference.gradients.array, "FEMNIST CNN gradients")
  }

  /// Same seed, same steps → bit-identical FEMNIST CNN parameters through the Winograd path.
  func testSameSeedIsBitIdenticalThroughWinograd() throws {
    func train(seed: UInt64) throws -> [UInt32] {
      var rng = Xoshiro256(seed: seed)
      let model = try ModelRegistry.make(ModelSettings(name: "CNN", inputShape: [1, 28, 28], classes: 62), rng: &rng)
      let sgd = try OptimizerRegistry.make(
        OptimizerSettings(learningRate: 0.05, momentum: 0.9), parameterCount: model.parameterCount)
      for step in 0..<3 {
        _ = model.computeGradients(
          classificationBatch(count: 5, shape: [1, 28, 28], classes: 62, seed: 90 + UInt64(step)))
        sgd.step(model)
      }
      return model.parameters.array.map(\.bitPattern)
    }
    let a = try train(seed: 91)
    XCTAssertEqual(a, try train(seed: 91))
    XCTAssertNotEqual(a, try train(seed: 92))
  }

  func testWinogradGradientsFiniteDifferences() throws {
    for (index, shape) in shapes.prefix(2).enumerated() {
      let (winograd, _, _) = try pair(shape, seed: 70 + UInt64(index))
      checkGradients(
        winograd, classificationBatch(count: 5, shape: [shape.0] + shape.2, classes: 3, seed: 80), samples: 60,
        eps: 1e-2)
    }
  }

  /// Equal up to float32 rounding: within 1e-4 of the largest magnitude.
  private func assertClose(
    _ a: [Float], _ b: [Float], _ message: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    let scale = b.map(abs).max() ?? 0
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertGreaterThan(scale, 0, message, file: file, line: line)
    XCTAssertLessThanOrEqual(
      worst, 1e-4 * scale, "\(message): worst difference \(worst) of \(scale)", file: file, line: line)
  }
}
