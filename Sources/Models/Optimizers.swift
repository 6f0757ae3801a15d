import Numerics

#if canImport(Glibc)
  import Glibc
#endif

/// Updates a model's parameters from its gradients (`[OPTIMIZER_PARAMS]`).
public protocol Optimizer: AnyObject {
  func step(_ model: any Model)
  /// Forgets momentum and moment estimates (decentralizepy's `reset_optimizer`).
  func reset()
  /// Everything `step` carries from one call to the next, for a checkpoint.
  func exportState() -> OptimizerState
  /// Continues from an exported state; throws when it does not fit this optimizer and model.
  func importState(_ state: OptimizerState, parameterCount: Int) throws
}

/// An optimizer's carried state: step counters and per-parameter buffers (SGD's momentum, Adam's
/// two moments), in a fixed order per optimizer.
public struct OptimizerState: Sendable, Equatable {
  public var counters: [Int]
  public var buffers: [[Float]]

  public init(counters: [Int] = [], buffers: [[Float]] = []) {
    self.counters = counters
    self.buffers = buffers
  }
}

/// Hyper-parameters, named as torch.optim names them.
public struct OptimizerSettings: Sendable {
  public var name: String
  public var learningRate: Float
  public var momentum: Float
  public var weightDecay: Float
  public var nesterov: Bool
  public var dampening: Float
  public var beta1: Float
  public var beta2: Float
  public var epsilon: Float

  public init(
    name: String = "SGD", learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false,
    dampening: Float = 0, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
  ) {
    self.name = name
    self.learningRate = learningRate
    self.momentum = momentum
    self.weightDecay = weightDecay
    self.nesterov = nesterov
    self.dampening = dampening
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
  }
}

/// torch.optim.SGD. Plain SGD on a sparse gradient touches only the written ranges; with
/// momentum or weight decay every parameter changes each step, so it runs dense.
public final class SGD: Optimizer {
  let s: OptimizerSettings
  private var buffer: FloatBuffer?
  private var started = false

  public init(_ settings: OptimizerSettings) { s = settings }

  public func reset() {
    buffer?.zero()
    started = false
  }

  public func exportState() -> OptimizerState {
    OptimizerState(counters: [started ? 1 : 0], buffers: buffer.map { [$0.array] } ?? [])
  }

  public func importState(_ state: OptimizerState, parameterCount: Int) throws {
    guard state.counters.count == 1, state.buffers.count <= 1, state.buffers.allSatisfy({ $0.count == parameterCount })
    else { throw ModelError("SGD state in the checkpoint does not fit a model of \(parameterCount) parameters") }
    started = state.counters[0] != 0
    if let values = state.buffers.first {
      let b = FloatBuffer(count: parameterCount)
      for i in 0..<parameterCount { b[i] = values[i] }
      buffer = b
    } else {
      buffer = nil
    }
  }

  public func step(_ model: any Model) {
    let p = model.parameters.pointer
    let g = model.gradients.pointer
    let n = model.parameterCount
    if s.momentum == 0 && s.weightDecay == 0 {
      if let sparse = model.sparseGradient {
        for r in sparse.ranges {
          BLAS.axpy(count: r.count, alpha: -s.learningRate, x: g + r.lowerBound, y: p + r.lowerBound)
        }
      } else {
        BLAS.axpy(count: n, alpha: -s.learningRate, x: g, y: p)
      }
      return
    }
    if buffer == nil { buffer = FloatBuffer(count: n) }
    let b = buffer!.pointer
    // A sparse model keeps every untouched gradient entry at zero, so the dense loop is exact.
    let lr = s.learningRate
    let mu = s.momentum
    let wd = s.weightDecay
    let damp = s.dampening
    for i in 0..<n {
      var d = g[i]
      d += wd * p[i]
      if mu != 0 {
        b[i] = started ? mu * b[i] + (1 - damp) * d : d
        d = s.nesterov ? d + mu * b[i] : b[i]
      }
      p[i] -= lr * d
    }
    started = true
  }
}

/// torch.optim.Adam (L2 weight decay added to the gradient, bias-corrected moments).
public final class Adam: Optimizer {
  let s: OptimizerSettings
  private var m: FloatBuffer?
  private var v: FloatBuffer?
  private var t = 0

  public init(_ settings: OptimizerSettings) { s = settings }

  public func reset() {
    m?.zero()
    v?.zero()
    t = 0
  }

  public func exportState() -> OptimizerState {
    guard let m, let v else { return OptimizerState(counters: [t]) }
    return OptimizerState(counters: [t], buffers: [m.array, v.array])
  }

  public func importState(_ state: OptimizerState, parameterCount: Int) throws {
    guard state.counters.count == 1, state.counters[0] >= 0, state.buffers.count == 0 || state.buffers.count == 2,
      state.buffers.allSatisfy({ $0.count == parameterCount })
    else { throw ModelError("Adam state in the checkpoint does not fit a model of \(parameterCount) parameters") }
    t = state.counters[0]
    if state.buffers.count == 2 {
      let mb = FloatBuffer(count: parameterCount)
      let vb = FloatBuffer(count: parameterCount)
      for i in 0..<parameterCount {
        mb[i] = state.buffers[0][i]
        vb[i] = state.buffers[1][i]
      }
      m = mb
      v = vb
    } else {
      m = nil
      v = nil
    }
  }

  public func step(_ model: any Model) {
    let n = model.parameterCount
    if m == nil {
      m = FloatBuffer(count: n)
      v = FloatBuffer(count: n)
    }
    t += 1
    let p = model.parameters.pointer
    let g = model.gradients.pointer
    let mp = m!.pointer
    let vp = v!.pointer
    let c1 = 1 - powf(s.beta1, Float(t))
    let c2 = 1 - powf(s.beta2, Float(t))
    for i in 0..<n {
      var d = g[i]
      d += s.weightDecay * p[i]
      mp[i] = s.beta1 * mp[i] + (1 - s.beta1) * d
      vp[i] = s.beta2 * vp[i] + (1 - s.beta2) * d * d
      p[i] -= s.learningRate * (mp[i] / c1) / ((vp[i] / c2).squareRoot() + s.epsilon)
    }
  }
}

/// Maps `optimizer_class` names to optimizers; names are registered once (see `Registry`).
public enum OptimizerRegistry {
  public static let registry = Registry<@Sendable (OptimizerSettings) -> any Optimizer>(
    kind: "[OPTIMIZER_PARAMS] optimizer_class",
    [
      .init("SGD") { SGD($0) },
      .init("Adam") { Adam($0) },
    ])

  public static var names: [String] { registry.names }

  public static func make(_ settings: OptimizerSettings, parameterCount: Int) throws -> any Optimizer {
    guard settings.learningRate > 0 else {
      throw ModelError("learning rate must be positive, got \(settings.learningRate)")
    }
    return try registry.resolve(settings.name).make(settings)
  }
}
