import Numerics

/// Conv2d's arithmetic for stride-1 5×5 convolutions over many input channels, by Winograd's
/// F(2×2, 5×5) (`Numerics.Winograd`): each pass becomes 36 sgemms over transformed tiles with
/// a third of im2col's multiply-adds.
///
/// Samples are transformed in groups: the group's transformed inputs V and products M
/// (36 × channels × tiles each) are the working set of its sgemms, and `groupSize` keeps them
/// near L2 while giving the sgemms enough columns to run at speed. Backward walks the groups in
/// reverse, so the last group's V from the forward pass is still there to reuse.
final class WinogradConvolution {
  /// Whether a convolution takes this path: 5×5, stride 1, and enough input channels that the
  /// per-component sgemms (K = input channels) are worth their transforms. FEMNIST's second
  /// convolution (32→64) qualifies; its first (one input channel) stays on im2col.
  static func applies(to g: ConvGeometry) -> Bool {
    g.stride == 1 && g.kernelHeight == 5 && g.kernelWidth == 5 && g.channels >= 8
  }

  /// Samples per group; 4 is the fastest for FEMNIST's second convolution (docs/performance.md).
  static let defaultGroupSize = 4

  let geometry: ConvGeometry
  let outChannels: Int
  let groupSize: Int
  private let tilesY: Int, tilesX: Int, tilesPerSample: Int
  /// Row stride of V and M: a group's tiles plus eight floats of slack for partial vectors.
  private let rowStride: Int
  /// Row pitch of the zero-bordered input planes (2·tilesY + 4 rows): every tile's 6×6 window
  /// fits, including the extra row and column an odd output size needs.
  private let inputPitch: Int
  /// Row pitch of the staged output planes: whole vectors of 16, so no store crosses a row.
  private let outputPitch: Int
  private let u: FloatBuffer, du: FloatBuffer, v: FloatBuffer, m: FloatBuffer
  private let paddedInput: FloatBuffer, paddedGradient: FloatBuffer
  private let stagedOutput: FloatBuffer, stagedGradient: FloatBuffer
  /// First sample of the group whose transformed inputs `v` holds.
  private var transformed: UnsafePointer<Float>?

  init(geometry g: ConvGeometry, outChannels: Int, groupSize: Int = defaultGroupSize) {
    precondition(Self.applies(to: g))
    geometry = g
    self.outChannels = outChannels
    self.groupSize = groupSize
    tilesY = Winograd.tiles(g.outputHeight)
    tilesX = Winograd.tiles(g.outputWidth)
    tilesPerSample = tilesY * tilesX
    rowStride = groupSize * tilesPerSample + 8
    inputPitch = 2 * tilesX + 4
    outputPitch = 16 * ((tilesX + 7) / 8)
    let components = Winograd.components
    u = FloatBuffer(count: components * outChannels * g.channels)
    du = FloatBuffer(count: components * outChannels * g.channels)
    v = FloatBuffer(count: components * g.channels * rowStride)
    m = FloatBuffer(count: components * outChannels * rowStride)
    // Zeroed once: the borders (padding, and the extra row and column of odd sizes) stay zero.
    paddedInput = FloatBuffer(count: (2 * tilesY + 4) * inputPitch + 32)
    paddedGradient = FloatBuffer(count: (2 * tilesY + 4) * inputPitch + 32)
    stagedOutput = FloatBuffer(count: 2 * tilesY * outputPitch)
    stagedGradient = FloatBuffer(count: 2 * tilesY * outputPitch)
  }

  private var planeSize: Int { geometry.height * geometry.width }
  private var outputSize: Int { geometry.outputHeight * geometry.outputWidth }

  func forward(
    _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, batch: Int, weights: UnsafePointer<Float>,
    bias: UnsafePointer<Float>
  ) {
    let (channels, o) = (geometry.channels, outChannels)
    Winograd.transformFilters(weights, count: o * channels, into: u.pointer)
    for first in stride(from: 0, to: batch, by: groupSize) {
      let count = min(groupSize, batch - first)
      transformInputs(input, first: first, count: count)
      let n = count * tilesPerSample
      for xi in 0..<Winograd.components {
        BLAS.gemm(
          .none, .none, m: o, n: n, k: channels, a: u.pointer + xi * o * channels, lda: channels,
          b: v.pointer + xi * channels * rowStride, ldb: rowStride, c: m.pointer + xi * o * rowStride, ldc: rowStride)
      }
      for s in 0..<count {
        for c in 0..<o {
          Winograd.transformOutput(
            m.pointer + c * rowStride + s * tilesPerSample, componentStride: o * rowStride, tilesY: tilesY,
            tilesX: tilesX, bias: bias[c], into: stagedOutput.pointer, pitch: outputPitch)
          Winograd.crop(
            stagedOutput.pointer, pitch: outputPitch, offset: 0, height: geometry.outputHeight,
            width: geometry.outputWidth, into: output + ((first + s) * o + c) * outputSize)
        }
      }
    }
  }

  func backward(
    input: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
    inputGradient dx: UnsafeMutablePointer<Float>?,
    batch: Int, weightGradient dw: UnsafeMutablePointer<Float>
  ) {
    let (channels, o) = (geometry.channels, outChannels)
    let groups = Array(stride(from: 0, to: batch, by: groupSize))
    for (index, first) in groups.reversed().enumerated() {
      let count = min(groupSize, batch - first)
      let n = count * tilesPerSample
      if transformed != input + first * channels * planeSize { transformInputs(input, first: first, count: count) }
      // dM = A dY Aᵀ per tile, into M's storage.
      for c in 0..<o {
        for s in 0..<count {
          Winograd.pad(
            dy + ((first + s) * o + c) * outputSize, height: geometry.outputHeight, width: geometry.outputWidth,
            padding: 0, into: stagedGradient.pointer, pitch: outputPitch)
          Winograd.outputGradient(
            stagedGradient.pointer, pitch: outputPitch, tilesY: tilesY, tilesX: tilesX,
            into: m.pointer + c * rowStride + s * tilesPerSample, componentStride: o * rowStride)
        }
      }
      // dU[ξ] (+)= dM[ξ] · V[ξ]ᵀ
      for xi in 0..<Winograd.components {
        BLAS.gemm(
          .none, .transpose, m: o, n: channels, k: n, a: m.pointer + xi * o * rowStride, lda: rowStride,
          b: v.pointer + xi * channels * rowStride, ldb: rowStride, beta: index == 0 ? 0 : 1,
          c: du.pointer + xi * o * channels, ldc: channels)
      }
      guard let dx else { continue }
      // dV[ξ] = U[ξ]ᵀ · dM[ξ], into V's storage, then B dV Bᵀ added back over each window.
      for xi in 0..<Winograd.components {
        BLAS.gemm(
          .transpose, .none, m: channels, n: n, k: o, a: u.pointer + xi * o * channels, lda: channels,
          b: m.pointer + xi * o * rowStride, ldb: rowStride, c: v.pointer + xi * channels * rowStride,
          ldc: rowStride)
      }
      transformed = nil
      for s in 0..<count {
        for c in 0..<channels {
          paddedGradient.zero()
          Winograd.inputGradient(
            v.pointer + c * rowStride + s * tilesPerSample, componentStride: channels * rowStride, tilesY: tilesY,
            tilesX: tilesX, into: paddedGradient.pointer, pitch: inputPitch)
          Winograd.crop(
            paddedGradient.pointer, pitch: inputPitch, offset: geometry.padding, height: geometry.height,
            width: geometry.width, into: dx + ((first + s) * channels + c) * planeSize)
        }
      }
    }
    Winograd.filterGradient(du.pointer, count: o * channels, into: dw)
  }

  /// V = Bᵀ d B for the group's samples, every channel.
  private func transformInputs(_ input: UnsafePointer<Float>, first: Int, count: Int) {
    let channels = geometry.channels
    for s in 0..<count {
      for c in 0..<channels {
        Winograd.pad(
          input + ((first + s) * channels + c) * planeSize, height: geometry.height, width: geometry.width,
          padding: geometry.padding, into: paddedInput.pointer, pitch: inputPitch)
        Winograd.transformInput(
          paddedInput.pointer, pitch: inputPitch, tilesY: tilesY, tilesX: tilesX,
          into: v.pointer + c * rowStride + s * tilesPerSample, componentStride: channels * rowStride)
      }
    }
    transformed = input + first * channels * planeSize
  }
}
