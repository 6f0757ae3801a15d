import Numerics

/// 2-D convolution by im2col + one sgemm per sample. Weights are stored
/// outChannels × (inChannels·kH·kW), PyTorch's layout flattened.
final class Conv2d: Layer {
  let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
  private var geometry = ConvGeometry(channels: 1, height: 1, width: 1, kernelHeight: 1, kernelWidth: 1)
  private var w: UnsafeMutablePointer<Float>!, b: UnsafeMutablePointer<Float>!
  private var dw: UnsafeMutablePointer<Float>!, db: UnsafeMutablePointer<Float>!
  private var columns = FloatBuffer(count: 0)
  private var columnGradient = FloatBuffer(count: 0)
  private var ones = FloatBuffer(count: 0)

  init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
  }

  var fanIn: Int { inChannels * kernel * kernel }
  var parameterCount: Int { outChannels * fanIn + outChannels }
  var tensors: [ParameterTensor] {
    [
      ParameterTensor(name: "weight", offset: 0, shape: [outChannels, inChannels, kernel, kernel]),
      ParameterTensor(name: "bias", offset: outChannels * fanIn, shape: [outChannels]),
    ]
  }

  /// Samples unrolled into one column matrix: one sgemm per chunk instead of per sample.
  static let chunk = 16
  private var outputs = FloatBuffer(count: 0)
  private var outputGradients = FloatBuffer(count: 0)

  func configure(input: [Int]) throws -> [Int] {
    guard input.count == 3, input[0] == inChannels else {
      throw ModelError("Conv2d(\(inChannels)→\(outChannels)) needs input [\(inChannels), H, W], got \(input)")
    }
    geometry = ConvGeometry(
      channels: inChannels, height: input[1], width: input[2], kernelHeight: kernel, kernelWidth: kernel,
      stride: stride, padding: padding)
    guard geometry.outputHeight > 0, geometry.outputWidth > 0 else {
      throw ModelError("Conv2d kernel \(kernel) does not fit input \(input)")
    }
    let wide = geometry.columnCols * Self.chunk
    columns = FloatBuffer(count: geometry.columnRows * wide)
    columnGradient = FloatBuffer(count: geometry.columnRows * wide)
    outputs = FloatBuffer(count: outChannels * wide)
    outputGradients = FloatBuffer(count: outChannels * wide)
    ones = FloatBuffer(count: wide)
    for i in 0..<ones.count { ones[i] = 1 }
    return [outChannels, geometry.outputHeight, geometry.outputWidth]
  }

  func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
    w = parameters
    b = parameters + outChannels * fanIn
    dw = gradients
    db = gradients + outChannels * fanIn
  }

  func initialize(rng: inout Xoshiro256) {
    pytorchDefaultInit(w, count: outChannels * fanIn, fanIn: fanIn, rng: &rng)
    pytorchDefaultInit(b, count: outChannels, fanIn: fanIn, rng: &rng)
  }

  /// The input and batch whose single chunk `columns` holds, so backward can skip re-unrolling.
  private var unrolled: (input: UnsafePointer<Float>, batch: Int)?

  /// Unrolls samples `first..<first+n` side by side into `columns` (K × n·P).
  private func unroll(_ input: UnsafePointer<Float>, first: Int, n: Int) {
    let g = geometry
    let inSize = g.channels * g.height * g.width
    let p = g.columnCols
    for s in 0..<n {
      Im2col.im2col(g, input: input + (first + s) * inSize, columns: columns.pointer + s * p, rowStride: n * p)
    }
  }

  func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, batch: Int) {
    let p = geometry.columnCols
    let k = geometry.columnRows
    var first = 0
    while first < batch {
      let n = min(Self.chunk, batch - first)
      unroll(input, first: first, n: n)
      unrolled = batch <= Self.chunk ? (input, batch) : nil
      // outputs[OC × n·P] = b·1ᵀ + W·cols, then scattered to [sample][channel][P].
      BLAS.gemm(
        .none, .none, m: outChannels, n: n * p, k: 1, a: b, lda: 1, b: ones.pointer, ldb: n * p, c: outputs.pointer,
        ldc: n * p)
      BLAS.gemm(
        .none, .none, m: outChannels, n: n * p, k: k, a: w, lda: k, b: columns.pointer, ldb: n * p, beta: 1,
        c: outputs.pointer, ldc: n * p)
      for s in 0..<n {
        for c in 0..<outChannels {
          (output + ((first + s) * outChannels + c) * p).update(from: outputs.pointer + c * n * p + s * p, count: p)
        }
      }
      first += n
    }
  }

  func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
    inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int
  ) {
    let g = geometry
    let inSize = g.channels * g.height * g.width
    let p = g.columnCols
    let k = g.columnRows
    if let dx { dx.update(repeating: 0, count: batch * inSize) }
    var first = 0
    while first < batch {
      let n = min(Self.chunk, batch - first)
      if !(batch <= Self.chunk && unrolled?.input == input && unrolled?.batch == batch) {
        unroll(input, first: first, n: n)
      }
      for s in 0..<n {
        for c in 0..<outChannels {
          (outputGradients.pointer + c * n * p + s * p).update(from: dy + ((first + s) * outChannels + c) * p, count: p)
        }
      }
      let beta: Float = first == 0 ? 0 : 1
      BLAS.gemm(
        .none, .transpose, m: outChannels, n: k, k: n * p, a: outputGradients.pointer, lda: n * p, b: columns.pointer,
        ldb: n * p, beta: beta, c: dw, ldc: k)
      BLAS.gemv(
        .none, m: outChannels, n: n * p, a: outputGradients.pointer, lda: n * p, x: ones.pointer, beta: beta, y: db)
      if let dx {
        BLAS.gemm(
          .transpose, .none, m: k, n: n * p, k: outChannels, a: w, lda: k, b: outputGradients.pointer, ldb: n * p,
          c: columnGradient.pointer, ldc: n * p)
        for s in 0..<n {
          Im2col.col2im(g, columns: columnGradient.pointer + s * p, output: dx + (first + s) * inSize, rowStride: n * p)
        }
      }
      first += n
    }
  }
}

/// Max pooling with a square window and stride equal to the window (PyTorch `MaxPool2d(k)`),
/// flooring odd sizes. Remembers the arg-max of each window for the backward pass.
final class MaxPool2d: Layer {
  let size: Int
  private var c = 0, h = 0, w = 0, oh = 0, ow = 0
  private var argmax: [Int32] = []

  init(_ size: Int) { self.size = size }

  func configure(input: [Int]) throws -> [Int] {
    guard input.count == 3, input[1] >= size, input[2] >= size else {
      throw ModelError("MaxPool2d(\(size)) needs input [C, H, W] with H, W ≥ \(size), got \(input)")
    }
    c = input[0]
    h = input[1]
    w = input[2]
    oh = h / size
    ow = w / size
    return [c, oh, ow]
  }

  func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, batch: Int) {
    let outCount = batch * c * oh * ow
    if argmax.count < outCount { argmax = [Int32](repeating: 0, count: outCount) }
    var o = 0
    for plane in 0..<(batch * c) {
      let base = plane * h * w
      for y in 0..<oh {
        for x in 0..<ow {
          var best = -Float.infinity
          var bestIndex = base + (y * size) * w + x * size
          for dy in 0..<size {
            let row = base + (y * size + dy) * w + x * size
            for dx in 0..<size where input[row + dx] > best {
              best = input[row + dx]
              bestIndex = row + dx
            }
          }
          output[o] = best
          argmax[o] = Int32(bestIndex)
          o += 1
        }
      }
    }
  }

  func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
    inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int
  ) {
    guard let dx else { return }
    dx.update(repeating: 0, count: batch * c * h * w)
    for o in 0..<(batch * c * oh * ow) { dx[Int(argmax[o])] += dy[o] }
  }
}
