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
  /// (image s at column offset s·columnCols), so a whole batch is one sgemm.
  public static func im2col(
    _ g: ConvGeometry, input: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>, rowStride: Int? = nil
  ) {
    let oh = g.outputHeight
    let ow = g.outputWidth
    let stride = rowStride ?? oh * ow
    var row = 0
    for c in 0..<g.channels {
      let plane = input + c * g.height * g.width
      for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
          let dst = columns + row * stride
          for oy in 0..<oh {
            let iy = oy * g.stride - g.padding + ky
            let dstRow = dst + oy * ow
            if iy < 0 || iy >= g.height {
              dstRow.update(repeating: 0, count: ow)
              continue
            }
            let srcRow = plane + iy * g.width
            if g.stride == 1 {
              // Contiguous fast path: zero the padded edges, copy the middle in one go.
              let shift = kx - g.padding
              let lo = max(0, -shift)
              let hi = min(ow, g.width - shift)
              if lo > 0 { dstRow.update(repeating: 0, count: min(lo, ow)) }
              if hi > lo { (dstRow + lo).update(from: srcRow + lo + shift, count: hi - lo) }
              if hi < ow { (dstRow + max(hi, 0)).update(repeating: 0, count: ow - max(hi, 0)) }
            } else {
              for ox in 0..<ow {
                let ix = ox * g.stride - g.padding + kx
                dstRow[ox] = (ix >= 0 && ix < g.width) ? srcRow[ix] : 0
              }
            }
          }
          row += 1
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
    var row = 0
    for c in 0..<g.channels {
      let plane = output + c * g.height * g.width
      for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
          let src = columns + row * stride
          for oy in 0..<oh {
            let iy = oy * g.stride - g.padding + ky
            if iy < 0 || iy >= g.height { continue }
            let srcRow = src + oy * ow
            let dstRow = plane + iy * g.width
            if g.stride == 1 {
              let shift = kx - g.padding
              let lo = max(0, -shift)
              let hi = min(ow, g.width - shift)
              if hi > lo { for ox in lo..<hi { dstRow[ox + shift] += srcRow[ox] } }
            } else {
              for ox in 0..<ow {
                let ix = ox * g.stride - g.padding + kx
                if ix >= 0 && ix < g.width { dstRow[ix] += srcRow[ox] }
              }
            }
          }
          row += 1
        }
      }
    }
  }
}
