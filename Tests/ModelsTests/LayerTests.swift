import Numerics
import XCTest

@testable import Models

/// The fast paths of the layers agree with their plain definitions.
final class LayerTests: XCTestCase {
  func batch(_ count: Int, shape: [Int], classes: Int, seed: UInt64) -> Batch {
    classificationBatch(count: count, shape: shape, classes: classes, seed: seed)
  }

  /// MaxPool2d(relu: true) computes exactly max-pool then ReLU, forward and backward.
  func testFusedPoolReLUEqualsSeparateLayers() throws {
    for (input, window) in [([3, 8, 8], 2), ([3, 7, 9], 2), ([3, 9, 9], 3)] {
      let pooled = (input[1] / window) * (input[2] / window) * 4
      var rngA = Xoshiro256(seed: 21)
      var rngB = Xoshiro256(seed: 21)
      let separate = try Sequential(
        name: "separate", inputShape: input,
        layers: [Conv2d(3, 4, kernel: 3, padding: 1), MaxPool2d(window), ReLU(), Linear(pooled, 5)],
        loss: .crossEntropy, rng: &rngA)
      let fused = try Sequential(
        name: "fused", inputShape: input,
        layers: [Conv2d(3, 4, kernel: 3, padding: 1), MaxPool2d(window, relu: true), Linear(pooled, 5)],
        loss: .crossEntropy, rng: &rngB)
      XCTAssertEqual(separate.parameters.array, fused.parameters.array)
      let b = batch(5, shape: input, classes: 5, seed: 22)
      XCTAssertEqual(separate.computeGradients(b), fused.computeGradients(b), "\(input) window \(window)")
      XCTAssertEqual(separate.gradients.array, fused.gradients.array, "\(input) window \(window)")
    }
  }

  /// The vectorised 2×2 pool equals the definition (first maximum wins, as PyTorch; the fused
  /// ReLU passes a gradient only where its output is positive) on inputs full of ties, on widths
  /// that take the four-window vectors and the scalar tail.
  func testPool2x2MatchesDefinitionWithTies() throws {
    var rng = Xoshiro256(seed: 31)
    for (shape, relu) in [([2, 28, 28], true), ([3, 14, 14], false), ([1, 10, 18], true), ([2, 6, 22], false)] {
      let (c, h, w) = (shape[0], shape[1], shape[2])
      let batch = 3
      let pool = MaxPool2d(2, relu: relu)
      XCTAssertEqual(try pool.configure(input: shape), [c, h / 2, w / 2])
      let input = (0..<(batch * c * h * w)).map { _ in Float(rng.nextInt(below: 4)) - 1.5 }
      let dy = (0..<(batch * c * (h / 2) * (w / 2))).map { _ in rng.uniform(-1, 1) }
      var output = [Float](repeating: .nan, count: dy.count)
      var dx = [Float](repeating: .nan, count: input.count)
      pool.forward(input, &output, batch: batch)
      pool.backward(input: input, output: output, outputGradient: dy, inputGradient: &dx, batch: batch)
      var expectedOutput = [Float](repeating: 0, count: dy.count)
      var expectedDx = [Float](repeating: 0, count: input.count)
      for plane in 0..<(batch * c) {
        for y in 0..<(h / 2) {
          for x in 0..<(w / 2) {
            var best = -Float.infinity
            var at = 0
            for (dy0, dx0) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
              let i = plane * h * w + (2 * y + dy0) * w + 2 * x + dx0
              if input[i] > best {
                best = input[i]
                at = i
              }
            }
            let o = (plane * (h / 2) + y) * (w / 2) + x
            expectedOutput[o] = relu ? max(best, 0) : best
            expectedDx[at] = relu && best <= 0 ? 0 : dy[o]
          }
        }
      }
      XCTAssertEqual(output, expectedOutput, "\(shape) relu \(relu)")
      XCTAssertEqual(dx, expectedDx, "\(shape) relu \(relu)")
    }
  }

  /// Finite differences through the fused pool on shapes that do and do not tile.
  func testPoolReLUGradients() throws {
    for (input, window) in [([2, 6, 6], 2), ([2, 7, 7], 2), ([2, 9, 8], 3)] {
      var rng = Xoshiro256(seed: 23)
      let pooled = (input[1] / window) * (input[2] / window) * 3
      let model = try Sequential(
        name: "pool", inputShape: input,
        layers: [Conv2d(2, 3, kernel: 3, padding: 1), MaxPool2d(window, relu: true), Linear(pooled, 3)],
        loss: .crossEntropy, rng: &rng)
      checkGradients(model, batch(3, shape: input, classes: 3, seed: 24), samples: 80, eps: 1e-3)
    }
  }

  /// Conv2d accumulates its weight gradient transposed when K = C·kH·kW exceeds the output
  /// channels, and directly otherwise; both agree with finite differences, with stride 2.
  func testConvolutionGradientInBothWeightLayouts() throws {
    for (inChannels, outChannels) in [(4, 2), (1, 12)] {
      var rng = Xoshiro256(seed: 25)
      let conv = Conv2d(inChannels, outChannels, kernel: 3, stride: 2, padding: 2)
      let model = try Sequential(
        name: "conv", inputShape: [inChannels, 6, 5], layers: [conv, Linear(outChannels * 4 * 4, 3)],
        loss: .crossEntropy, rng: &rng)
      checkGradients(
        model, batch(3, shape: [inChannels, 6, 5], classes: 3, seed: 26), samples: 100, eps: 1e-3)
    }
  }

  /// Linear takes a transposed sgemm for batches smaller than its output count; both paths
  /// give the same outputs.
  func testLinearSmallAndLargeBatchesAgree() throws {
    var rng = Xoshiro256(seed: 27)
    let model = try Sequential(
      name: "mlp", inputShape: [30], layers: [Linear(30, 20), ReLU(), Linear(20, 4)], loss: .crossEntropy, rng: &rng)
    let large = batch(25, shape: [30], classes: 4, seed: 28)
    var small = large
    small.count = 3
    small.inputs = Array(large.inputs.prefix(3 * 30))
    small.labels = Array(large.labels.prefix(3))
    let all = model.predict(large)
    let few = model.predict(small)
    for i in 0..<(3 * 4) { XCTAssertEqual(all[i], few[i], accuracy: 1e-5) }
  }

  /// The per-layer profile names every layer and leaves the same gradients as a training step.
  func testProfileLayers() throws {
    var rng = Xoshiro256(seed: 29)
    let model = try XCTUnwrap(
      ModelRegistry.make(ModelSettings(name: "CNN", inputShape: [1, 28, 28], classes: 62), rng: &rng) as? Sequential)
    let b = batch(2, shape: [1, 28, 28], classes: 62, seed: 30)
    let profile = model.profileLayers(b, repeats: 2)
    XCTAssertEqual(
      profile.map(\.layer),
      [
        "Conv2d(1→32, 5×5)", "MaxPool2d(2)+ReLU", "Conv2d(32→64, 5×5, Winograd)", "MaxPool2d(2)+ReLU",
        "Linear(3136→512)", "ReLU",
        "Linear(512→62)",
      ])
    XCTAssertTrue(profile.allSatisfy { $0.forwardSeconds >= 0 && $0.backwardSeconds >= 0 })
    let profiled = model.gradients.array
    _ = model.computeGradients(b)
    XCTAssertEqual(profiled, model.gradients.array)
  }
}
