import Numerics

/// A feed-forward network: a list of layers over one parameter vector, with a loss on top.
///
/// Activations and their gradients live in buffers sized for the largest batch seen so far;
/// they grow once and are reused, so steady-state training allocates nothing.
public final class Sequential: Model {
  public let name: String
  public let parameters: FloatBuffer
  public let gradients: FloatBuffer
  public let layout: [ParameterTensor]
  public let lossKind: LossKind
  public var parameterCount: Int { parameters.count }
  public var sparseGradient: SparseGradient? { nil }

  let layers: [any Layer]
  /// Per-sample sizes: index 0 is the input, i+1 the output of layer i.
  let sizes: [Int]
  let inputShape: [Int]
  private var activations: [FloatBuffer] = []
  private var activationGradients: [FloatBuffer] = []
  private var capacity = 0
  private var losses = FloatBuffer(count: 0)

  init(name: String, inputShape: [Int], layers: [any Layer], loss: LossKind, rng: inout Xoshiro256) throws {
    self.name = name
    self.inputShape = inputShape
    self.layers = layers
    lossKind = loss
    var shape = inputShape
    var sizes = [inputShape.reduce(1, *)]
    var layout: [ParameterTensor] = []
    var offset = 0
    for (i, layer) in layers.enumerated() {
      shape = try layer.configure(input: shape)
      sizes.append(shape.reduce(1, *))
      for t in layer.tensors {
        layout.append(ParameterTensor(name: "layer\(i).\(t.name)", offset: offset + t.offset, shape: t.shape))
      }
      offset += layer.parameterCount
    }
    self.sizes = sizes
    self.layout = layout
    try ModelLimits.check(offset, name)
    parameters = FloatBuffer(count: offset)
    gradients = FloatBuffer(count: offset)
    var at = 0
    for layer in layers {
      layer.bind(parameters: parameters.pointer + at, gradients: gradients.pointer + at)
      layer.initialize(rng: &rng)
      at += layer.parameterCount
    }
    if loss == .meanSquaredError && sizes.last != 1 {
      throw ModelError("\(name): MSELoss needs a single output, the network has \(sizes.last ?? 0)")
    }
  }

  private func reserve(_ batch: Int) {
    guard batch > capacity else { return }
    capacity = batch
    activations = sizes.map { FloatBuffer(count: $0 * batch) }
    activationGradients = sizes.map { FloatBuffer(count: $0 * batch) }
    losses = FloatBuffer(count: batch)
  }

  /// Receives each layer's time in `profileLayers`; nil, and never called, in training.
  private typealias LayerClock = (_ layer: Int, _ backward: Bool, _ seconds: Double) -> Void

  @inline(__always)
  private func timed(_ clock: LayerClock?, layer: Int, backward: Bool, _ body: () -> Void) {
    guard let clock else { return body() }
    let start = MonotonicClock.now()
    body()
    clock(layer, backward, MonotonicClock.now() - start)
  }

  /// Runs the layers on the batch; the output is `activations.last`.
  private func forward(_ batch: Batch, clock: LayerClock? = nil) {
    let n = batch.count
    reserve(n)
    precondition(
      batch.inputs.count >= n * sizes[0],
      "\(name): batch inputs hold \(batch.inputs.count) floats, need \(n * sizes[0])")
    batch.inputs.withUnsafeBufferPointer { activations[0].pointer.update(from: $0.baseAddress!, count: n * sizes[0]) }
    for (i, layer) in layers.enumerated() {
      timed(clock, layer: i, backward: false) {
        layer.forward(activations[i].pointer, activations[i + 1].pointer, batch: n)
      }
    }
  }

  public func computeGradients(_ batch: Batch) -> Float { computeGradients(batch, clock: nil) }

  private func computeGradients(_ batch: Batch, clock: LayerClock?) -> Float {
    let n = batch.count
    guard n > 0 else { return 0 }
    forward(batch, clock: clock)
    let out = activations[layers.count].pointer
    let dOut = activationGradients[layers.count].pointer
    let loss = Losses.lossAndGradient(
      lossKind, output: out, classes: sizes[layers.count], batch: batch, gradient: dOut)
    for i in stride(from: layers.count - 1, through: 0, by: -1) {
      timed(clock, layer: i, backward: true) {
        layers[i].backward(
          input: activations[i].pointer, output: activations[i + 1].pointer,
          outputGradient: activationGradients[i + 1].pointer,
          inputGradient: i == 0 ? nil : activationGradients[i].pointer, batch: n)
      }
    }
    return loss
  }

  public func evaluate(_ batch: Batch, into tally: inout EvaluationTally) {
    guard batch.count > 0 else { return }
    forward(batch)
    Losses.tally(
      lossKind, output: activations[layers.count].pointer, classes: sizes[layers.count], batch: batch, into: &tally)
  }

  /// The network's outputs for a batch (tests and benchmarks).
  public func predict(_ batch: Batch) -> [Float] {
    forward(batch)
    return Array(
      UnsafeBufferPointer(start: activations[layers.count].pointer, count: batch.count * sizes[layers.count]))
  }

  /// Mean seconds each layer spends in forward and backward on `batch`, over `repeats` passes
  /// after one warm-up (benchmarks: shows where a step's time goes). Leaves gradients written.
  public func profileLayers(_ batch: Batch, repeats: Int) -> [LayerProfile] {
    guard batch.count > 0, repeats > 0 else { return [] }
    var times = Array(repeating: (forward: 0.0, backward: 0.0), count: layers.count)
    _ = computeGradients(batch)  // warm-up, not timed
    for _ in 0..<repeats {
      _ = computeGradients(batch) { layer, backward, seconds in
        if backward {
          times[layer].backward += seconds / Double(repeats)
        } else {
          times[layer].forward += seconds / Double(repeats)
        }
      }
    }
    return zip(layers, times).map {
      LayerProfile(layer: String(describing: $0.0), forwardSeconds: $0.1.forward, backwardSeconds: $0.1.backward)
    }
  }
}

/// One layer's share of a training step (`Sequential.profileLayers`).
public struct LayerProfile: Sendable {
  public var layer: String
  public var forwardSeconds: Double
  public var backwardSeconds: Double
}
