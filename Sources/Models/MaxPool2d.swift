import Numerics

/// Max pooling with a square window and stride equal to the window (PyTorch `MaxPool2d(k)`),
/// flooring odd sizes. Remembers which element of each window won (the first of equal
/// maxima, as PyTorch) for the backward pass.
///
/// With `relu`, it is max-pool followed by ReLU in one pass. ReLU and max-pool commute (both
/// are monotone), so this is also ReLU followed by max-pool, the order decentralizepy's networks
/// use; fused, the ReLU costs nothing and needs no activation buffer of its own.
final class MaxPool2d: Layer, CustomStringConvertible {
  let size: Int
  let relu: Bool
  var description: String { "MaxPool2d(\(size))" + (relu ? "+ReLU" : "") }
  private var c = 0, h = 0, w = 0, oh = 0, ow = 0
  /// Per output: the winner's offset inside its window, dy·size + dx.
  private var winners = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)

  init(_ size: Int, relu: Bool = false) {
    precondition(size >= 1 && size <= 15, "MaxPool2d window must be 1…15")
    self.size = size
    self.relu = relu
  }

  deinit { winners.deallocate() }

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

  /// Whether the windows tile the input exactly, so backward can write every input element
  /// without clearing first.
  private var tiles: Bool { h == oh * size && w == ow * size }

  func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, batch: Int) {
    let outCount = batch * c * oh * ow
    if winners.count < outCount {
      winners.deallocate()
      winners = .allocate(capacity: outCount)
    }
    // Locals, not properties: stores through the output pointer could alias `self`, which
    // would make the compiler reload every property inside the loops.
    let (size, h, w, oh, ow, relu) = (size, h, w, oh, ow, relu)
    let win = winners.baseAddress!
    var o = 0
    for plane in 0..<(batch * c) {
      let base = input + plane * h * w
      for y in 0..<oh {
        let row = base + y * size * w
        if size == 2 {
          Self.forward2x2(row, row + w, output + o, win + o, count: ow, relu: relu)
        } else {
          for x in 0..<ow {
            var best = -Float.infinity
            var at = 0
            for dy in 0..<size {
              for dx in 0..<size where row[dy * w + x * size + dx] > best {
                best = row[dy * w + x * size + dx]
                at = dy * size + dx
              }
            }
            output[o + x] = relu ? max(best, 0) : best
            win[o + x] = UInt8(at)
          }
        }
        o += ow
      }
    }
  }

  func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
    inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int
  ) {
    guard let dx else { return }
    let (size, h, w, oh, ow, relu) = (size, h, w, oh, ow, relu)
    let win = winners.baseAddress!
    let exact = tiles && size == 2
    if !exact { dx.update(repeating: 0, count: batch * c * h * w) }
    var o = 0
    for plane in 0..<(batch * c) {
      let base = dx + plane * h * w
      for y in 0..<oh {
        let row = base + y * size * w
        if exact {
          Self.backward2x2(row, row + w, dy + o, output + o, win + o, count: ow, relu: relu)
        } else {
          for x in 0..<ow {
            let at = Int(win[o + x])
            row[(at / size) * w + x * size + at % size] = relu && !(output[o + x] > 0) ? 0 : dy[o + x]
          }
        }
        o += ow
      }
    }
  }
}

/// The 2×2 window, four outputs at a time. The scalar loop this replaced chose each winner with
/// selects too, but wrote one float at a time; with explicit vectors the FEMNIST CNN's two pools
/// went from 1.0 to 0.5 ms per batch-16 step (docs/performance.md).
extension MaxPool2d {
  /// Pools one pair of input rows, `top` and `bottom`, into `count` outputs. Ties go to the
  /// earlier element, bit for bit as the scalar tail and the generic window.
  @inline(__always)
  fileprivate static func forward2x2(
    _ top: UnsafePointer<Float>, _ bottom: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
    _ win: UnsafeMutablePointer<UInt8>, count: Int, relu: Bool
  ) {
    var x = 0
    while x + 4 <= count {
      let t = UnsafeRawPointer(top + 2 * x).loadUnaligned(as: SIMD8<Float>.self)
      let b = UnsafeRawPointer(bottom + 2 * x).loadUnaligned(as: SIMD8<Float>.self)
      let right = t.oddHalf .> t.evenHalf
      let upper = t.evenHalf.replacing(with: t.oddHalf, where: right)
      let bottomRight = b.oddHalf .> b.evenHalf
      let lower = b.evenHalf.replacing(with: b.oddHalf, where: bottomRight)
      let down = lower .> upper
      var best = upper.replacing(with: lower, where: down)
      if relu { best = best.replacing(with: 0, where: .!(best .> 0)) }
      UnsafeMutableRawPointer(output + x).storeBytes(of: best, as: SIMD4<Float>.self)
      let column = (down .& bottomRight) .| (.!down .& right)
      let code =
        SIMD4<Int32>(repeating: 0).replacing(with: 2, where: down)
        &+ SIMD4<Int32>(repeating: 0)
        .replacing(with: 1, where: column)
      UnsafeMutableRawPointer(win + x).storeBytes(of: SIMD4<UInt8>(truncatingIfNeeded: code), as: SIMD4<UInt8>.self)
      x += 4
    }
    while x < count {
      let top0 = top[2 * x]
      let top1 = top[2 * x + 1]
      let bottom0 = bottom[2 * x]
      let bottom1 = bottom[2 * x + 1]
      let right = top1 > top0
      let upper = right ? top1 : top0
      let bottomRight = bottom1 > bottom0
      let lower = bottomRight ? bottom1 : bottom0
      let down = lower > upper
      let best = down ? lower : upper
      output[x] = relu ? max(best, 0) : best
      win[x] = down ? (bottomRight ? 3 : 2) : (right ? 1 : 0)
      x += 1
    }
  }

  /// Writes every element of `count` windows in the row pair: the winner gets its output's
  /// gradient (0 where the fused ReLU cut it), the other three 0.
  @inline(__always)
  fileprivate static func backward2x2(
    _ top: UnsafeMutablePointer<Float>, _ bottom: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
    _ output: UnsafePointer<Float>, _ win: UnsafePointer<UInt8>, count: Int, relu: Bool
  ) {
    let left = SIMD8<Int32>(0, 1, 0, 1, 0, 1, 0, 1)
    let zero = SIMD8<Float>(repeating: 0)
    var x = 0
    while x + 4 <= count {
      var g = UnsafeRawPointer(dy + x).loadUnaligned(as: SIMD4<Float>.self)
      if relu {
        let out = UnsafeRawPointer(output + x).loadUnaligned(as: SIMD4<Float>.self)
        g = g.replacing(with: 0, where: .!(out .> 0))
      }
      let at = SIMD4<Int32>(truncatingIfNeeded: UnsafeRawPointer(win + x).loadUnaligned(as: SIMD4<UInt8>.self))
      let g2 = SIMD8(g[0], g[0], g[1], g[1], g[2], g[2], g[3], g[3])
      let at2 = SIMD8(at[0], at[0], at[1], at[1], at[2], at[2], at[3], at[3])
      UnsafeMutableRawPointer(top + 2 * x).storeBytes(
        of: zero.replacing(with: g2, where: at2 .== left), as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(bottom + 2 * x).storeBytes(
        of: zero.replacing(with: g2, where: at2 .== left &+ 2), as: SIMD8<Float>.self)
      x += 4
    }
    while x < count {
      let g = !relu || output[x] > 0 ? dy[x] : 0
      let at = win[x]
      top[2 * x] = at == 0 ? g : 0
      top[2 * x + 1] = at == 1 ? g : 0
      bottom[2 * x] = at == 2 ? g : 0
      bottom[2 * x + 1] = at == 3 ? g : 0
      x += 1
    }
  }
}
