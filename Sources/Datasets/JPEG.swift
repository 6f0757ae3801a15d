import CTurboJPEG

/// JPEG decoding through libjpeg-turbo, and resizing to a model's input size.
enum JPEG {
  /// Decodes `data` to RGB and resizes it (bilinear) to `size`×`size`, channel-major (3×size×size).
  static func decodeRGB(_ data: [UInt8], size: Int, path: String) throws -> [UInt8] {
    guard let handle = tjInitDecompress() else { throw DatasetError("\(path): libjpeg-turbo could not start") }
    defer { tjDestroy(handle) }
    var width: Int32 = 0
    var height: Int32 = 0
    var subsampling: Int32 = 0
    var colorspace: Int32 = 0
    let headerOK = data.withUnsafeBufferPointer {
      tjDecompressHeader3(handle, $0.baseAddress, UInt(data.count), &width, &height, &subsampling, &colorspace) == 0
    }
    guard headerOK, width > 0, height > 0, width <= 16384, height <= 16384 else {
      throw DatasetError("\(path): not a readable JPEG (\(String(cString: tjGetErrorStr2(handle))))")
    }
    let w = Int(width)
    let h = Int(height)
    var rgb = [UInt8](repeating: 0, count: w * h * 3)
    let ok = data.withUnsafeBufferPointer { src in
      rgb.withUnsafeMutableBufferPointer { dst in
        tjDecompress2(
          handle, src.baseAddress, UInt(data.count), dst.baseAddress, width, 0, height, Int32(TJPF_RGB.rawValue), 0)
          == 0
      }
    }
    guard ok else { throw DatasetError("\(path): corrupt JPEG (\(String(cString: tjGetErrorStr2(handle))))") }
    return resize(rgb, width: w, height: h, to: size)
  }

  /// Bilinear resize of interleaved RGB to channel-major `size`×`size` (align-corners false).
  static func resize(_ rgb: [UInt8], width: Int, height: Int, to size: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 3 * size * size)
    let sx = Double(width) / Double(size)
    let sy = Double(height) / Double(size)
    for y in 0..<size {
      let fy = max(0, (Double(y) + 0.5) * sy - 0.5)
      let y0 = min(Int(fy), height - 1)
      let y1 = min(y0 + 1, height - 1)
      let wy = fy - Double(y0)
      for x in 0..<size {
        let fx = max(0, (Double(x) + 0.5) * sx - 0.5)
        let x0 = min(Int(fx), width - 1)
        let x1 = min(x0 + 1, width - 1)
        let wx = fx - Double(x0)
        for c in 0..<3 {
          func p(_ yy: Int, _ xx: Int) -> Double { Double(rgb[(yy * width + xx) * 3 + c]) }
          let v = (1 - wy) * ((1 - wx) * p(y0, x0) + wx * p(y0, x1)) + wy * ((1 - wx) * p(y1, x0) + wx * p(y1, x1))
          out[c * size * size + y * size + x] = UInt8(max(0, min(255, v.rounded())))
        }
      }
    }
    return out
  }
}
