import Numerics

/// How `Conv2d` computes.
public enum ConvolutionAlgorithm: String, Sendable {
  /// Winograd's F(2×2, 5×5) where it applies (`WinogradConvolution.applies`), im2col elsewhere.
  case automatic
  /// im2col + sgemm for every convolution: the reference the Winograd path is tested against.
  case im2col
}

/// 2-D convolution. Weights are stored outChannels × (inChannels·kH·kW), PyTorch's layout
/// flattened. Stride-1 5×5 convolutions over many channels hand their arithmetic to
/// `WinogradConvolution`; the rest run im2col + sgemm, one sample at a time.
///
/// One sample's column matrix (627 KB for FEMNIST's second convolution) stays in L2 between
/// im2col and the sgemms that read it, and the sgemms read and write the activations in place
/// in their [sample][channel][pixel] layout. Unrolling 16 samples side by side into one 10 MB
/// matrix made fewer, larger sgemms but streamed every pass through memory and needed a
/// gather and scatter around them: the FEMNIST CNN step was about 20 % slower that way
/// (docs/performance.md).
final class Conv2d: Layer, CustomStringConvertible {
  let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
  private var geometry = ConvGeometry(channels: 1, height: 1, width: 1, kernelHeight: 1, kernelWidth: 1)
  private var w: UnsafeMutablePointer<Float>!, b: UnsafeMutablePointer<Float>!
  private var dw: UnsafeMutablePointer<Float>!, db: UnsafeMutablePointer<Float>!
  private var columns = FloatBuffer(count: 0)
  private var columnGradient = FloatBuffer(count: 0)
  /// Whether backward accumulates dWᵀ += cols·dYᵀ into `weightGradientT` (K × outChannels)
  /// rather than dW += dY·colsᵀ: with K the longer side as the sgemm's M, FEMNIST's second
  /// convolution runs about 8 % faster, and one transpose at the end restores PyTorch's layout.
  private var transposedWeightGradient: Bool { geometry.columnRows > outChannels }
  private var weightGradientT = FloatBuffer(count: 0)
  private var ones = FloatBuffer(count: 0)
  /// The sample whose columns `columns` holds, so backward on a batch of one skips re-unrolling.
  private var unrolled: UnsafePointer<Float>?
  /// Set for the convolutions Winograd's F(2×2, 5×5) computes faster (5×5, stride 1, many input
  /// channels); nil for the rest, which take im2col + sgemm.
  private var winograd: WinogradConvolution?

  let algorithm: ConvolutionAlgorithm

  init(
    _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
    algorithm: ConvolutionAlgorithm = .automatic
  ) {
    self.algorithm = algorithm
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
  }

  var description: String {
    "Conv2d(\(inChannels)→\(outChannels), \(kernel)×\(kernel)\(winograd == nil ? "" : ", Winograd"))"
  }
  var fanIn: Int { inChannels * kernel * kernel }
  var parameterCount: Int { outChannels * fanIn + outChannels }
  var tensors: [ParameterTensor] {
    [
      ParameterTensor(name: "weight", offset: 0, shape: [outChannels, inChannels, kernel, kernel]),
      ParameterTensor(name: "bias", offset: outChannels * fanIn, shape: [outChannels]),
    ]
  }

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
    ones = FloatBuffer(count: geometry.columnCols)
    for i in 0..<ones.count { ones[i] = 1 }
    if algorithm == .automatic && WinogradConvolution.applies(to: geometry) {
      winograd = WinogradConvolution(geometry: geometry, outChannels: outChannels)
      return [outChannels, geometry.outputHeight, geometry.outputWidth]
    }
    columns = FloatBuffer(count: geometry.columnRows * geometry.columnCols)
    columnGradient = FloatBuffer(count: geometry.columnRows * geometry.columnCols)
    weightGradientT = FloatBuffer(count: transposedWeightGradient ? geometry.columnRows * outChannels : 0)
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

  private var inputSize: Int { geometry.channels * geometry.height * geometry.width }

  private func unroll(_ sample: UnsafePointer<Float>) {
    guard unrolled != sample else { return }
    Im2col.im2col(geometry, input: sample, columns: columns.pointer)
    unrolled = sample
  }

  func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, batch: Int) {
    if let winograd { return winograd.forward(input, output, batch: batch, weights: w, bias: b) }
    let p = geometry.columnCols
    let k = geometry.columnRows
    unrolled = nil
    for s in 0..<batch {
      unroll(input + s * inputSize)
      // y = b·1ᵀ + W·cols, written in place as the sample's [channel][pixel] block.
      let y = output + s * outChannels * p
      for c in 0..<outChannels { (y + c * p).update(repeating: b[c], count: p) }
      BLAS.gemm(
        .none, .none, m: outChannels, n: p, k: k, a: w, lda: k, b: columns.pointer, ldb: p, beta: 1, c: y, ldc: p)
    }
  }

  func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
    inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int
  ) {
    let p = geometry.columnCols
    let k = geometry.columnRows
    // db = dY summed over samples and pixels, whichever path computes the rest.
    for s in 0..<batch {
      BLAS.gemv(
        .none, m: outChannels, n: p, a: dy + s * outChannels * p, lda: p, x: ones.pointer, beta: s == 0 ? 0 : 1, y: db)
    }
    if let winograd {
      return winograd.backward(input: input, outputGradient: dy, inputGradient: dx, batch: batch, weightGradient: dw)
    }
    // Last sample first: its columns are still unrolled from the forward pass.
    for s in (0..<batch).reversed() {
      let gradient = dy + s * outChannels * p
      let beta: Float = s == batch - 1 ? 0 : 1
      unroll(input + s * inputSize)
      if transposedWeightGradient {
        BLAS.gemm(
          .none, .transpose, m: k, n: outChannels, k: p, a: columns.pointer, lda: p, b: gradient, ldb: p, beta: beta,
          c: weightGradientT.pointer, ldc: outChannels)
      } else {
        BLAS.gemm(
          .none, .transpose, m: outChannels, n: k, k: p, a: gradient, lda: p, b: columns.pointer, ldb: p, beta: beta,
          c: dw, ldc: k)
      }
      if let dx {
        let sampleGradient = dx + s * inputSize
        sampleGradient.update(repeating: 0, count: inputSize)
        BLAS.gemm(
          .transpose, .none, m: k, n: p, k: outChannels, a: w, lda: k, b: gradient, ldb: p, c: columnGradient.pointer,
          ldc: p)
        Im2col.col2im(geometry, columns: columnGradient.pointer, output: sampleGradient)
      }
    }
    guard transposedWeightGradient else { return }
    let t = weightGradientT.pointer
    for o in 0..<outChannels {
      for i in 0..<k { dw[o * k + i] = t[i * outChannels + o] }
    }
  }
}
