/// im2col/col2im for 2-D convolution with stride and zero padding.
///
/// A convolution becomes one sgemm: the input image (C×H×W) is unrolled into a
/// (C·kH·kW) × (outH·outW) matrix, multiplied by the (outC) × (C·kH·kW) weight matrix.
/// `col2im` is the adjoint and accumulates, which is what the input gradient needs.
public struct ConvGeometry: Sendable, Equatable {
  public var channels: Int
  public var height: Int
  public var width: Int
  public var kernelHeight: Int
  public var kernelWidth: Int
  public var stride: Int
  public var padding: Int

  public init(
    channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int, stride: Int = 1, padding: Int = 0
  ) {
    self.channels = channels
    self.height = height
    self.width = width
    self.kernelHeight = kernelHeight
    self.kernelWidth = kernelWidth
    self.stride = stride
    self.padding = padding
  }

  public var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
  public var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
  /// Rows of the column matrix: C·kH·kW.
  public var columnRows: Int { channels * kernelHeight * kernelWidth }
  /// Columns of the column matrix: outH·outW.
  public var columnCols: Int { outputHeight * outputWidth }
}

public enum Im2col {
  /// Unrolls one image `input` (C×H×W) into `columns` (columnRows × columnCols). With
  /// `rowStride` larger than columnCols, several images share one column matrix side by side
  /// (image s at column offset s·columnCols), so a batch can be one sgemm.
  ///
  /// Each channel is first copied into a zero-padded plane on the stack, so every column row
  /// is a plain (strided) copy with no edge tests; rows are short (14–28 floats in the zoo), and
  /// per-row memset/memcpy calls had cost more than the copying itself.
  public static func im2col(
    _ g: ConvGeometry, input: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>, rowStride: Int? = nil
  ) {
    let oh = g.outputHeight
    let ow = g.outputWidth
    let stride = rowStride ?? oh * ow
    withPaddedPlane(g) { padded, pw in
      var row = 0
      for c in 0..<g.channels {
        let plane = input + c * g.height * g.width
        if let padded {
          for y in 0..<g.height { copy(padded + (y + g.padding) * pw + g.padding, plane + y * g.width, g.width) }
        }
        let source = padded.map { UnsafePointer($0) } ?? plane
        for ky in 0..<g.kernelHeight {
          for kx in 0..<g.kernelWidth {
            var dst = columns + row * stride
            var src = source + ky * pw + kx
            for _ in 0..<oh {
              if g.stride == 1 {
                copy(dst, src, ow)
              } else {
                for ox in 0..<ow { dst[ox] = src[ox * g.stride] }
              }
              dst += ow
              src += g.stride * pw
            }
            row += 1
          }
        }
      }
    }
  }

  /// Accumulates `columns` back into `output` (C×H×W); the adjoint of `im2col`.
  /// `output` is added to, not overwritten.
  public static func col2im(
    _ g: ConvGeometry, columns: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rowStride: Int? = nil
  ) {
    let oh = g.outputHeight
    let ow = g.outputWidth
    let stride = rowStride ?? oh * ow
    withPaddedPlane(g) { padded, pw in
      var row = 0
      for c in 0..<g.channels {
        let plane = output + c * g.height * g.width
        // Accumulate into the zeroed padded plane, then add its interior to the output.
        let target = padded ?? plane
        if let padded { padded.update(repeating: 0, count: pw * (g.height + 2 * g.padding)) }
        for ky in 0..<g.kernelHeight {
          for kx in 0..<g.kernelWidth {
            var src = columns + row * stride
            var dst = target + ky * pw + kx
            for _ in 0..<oh {
              if g.stride == 1 {
                add(dst, src, ow)
              } else {
                for ox in 0..<ow { dst[ox * g.stride] += src[ox] }
              }
              src += ow
              dst += g.stride * pw
            }
            row += 1
          }
        }
        if let padded {
          for y in 0..<g.height {
            add(plane + y * g.width, padded + (y + g.padding) * pw + g.padding, g.width)
          }
        }
      }
    }
  }

  /// Runs `body` with a zero-padded (H+2p)×(W+2p) scratch plane and its row pitch, or with nil
  /// and the image's own width when there is no padding.
  @inline(__always)
  private static func withPaddedPlane(
    _ g: ConvGeometry, _ body: (UnsafeMutablePointer<Float>?, Int) -> Void
  ) {
    guard g.padding > 0 else { return body(nil, g.width) }
    let pw = g.width + 2 * g.padding
    let count = pw * (g.height + 2 * g.padding)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { buffer in
      let plane = buffer.baseAddress!
      plane.update(repeating: 0, count: count)
      body(plane, pw)
    }
  }

  /// dst[0..<n] += src[0..<n] with unaligned 8- and 4-wide vectors: about 30 % faster than the
  /// loop the compiler vectorised with run-time alias checks, on rows of 14–28 floats.
  @inline(__always)
  private static func add(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    let d = UnsafeMutableRawPointer(dst)
    let s = UnsafeRawPointer(src)
    var i = 0
    while i + 8 <= n {
      let sum =
        d.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        + s.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
      d.storeBytes(of: sum, toByteOffset: i * 4, as: SIMD8<Float>.self)
      i += 8
    }
    if i + 4 <= n {
      let sum =
        d.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self)
        + s.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self)
      d.storeBytes(of: sum, toByteOffset: i * 4, as: SIMD4<Float>.self)
      i += 4
    }
    while i < n {
      dst[i] += src[i]
      i += 1
    }
  }

  /// Copies `n` floats with unaligned vector moves; the overlapping tail store avoids a
  /// scalar loop for the odd widths convolutions produce.
  @inline(__always)
  static func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    let d = UnsafeMutableRawPointer(dst)
    let s = UnsafeRawPointer(src)
    if n >= 8 {
      var i = 0
      while i + 8 <= n {
        d.storeBytes(
          of: s.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
      }
      if i < n {
        let tail = (n - 8) * 4
        d.storeBytes(
          of: s.loadUnaligned(fromByteOffset: tail, as: SIMD8<Float>.self), toByteOffset: tail, as: SIMD8<Float>.self)
      }
    } else if n >= 4 {
      d.storeBytes(of: s.loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
      let tail = (n - 4) * 4
      d.storeBytes(
        of: s.loadUnaligned(fromByteOffset: tail, as: SIMD4<Float>.self), toByteOffset: tail, as: SIMD4<Float>.self)
    } else {
      for i in 0..<n { dst[i] = src[i] }
    }
  }
}
