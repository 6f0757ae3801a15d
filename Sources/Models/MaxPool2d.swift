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
          let next = row + w
          // Branch-free: which element wins is data-dependent, and branches on it mispredicted
          // often enough to double the layer's time. Ties go to the earlier element.
          for x in 0..<ow {
            let top = (row[2 * x], row[2 * x + 1])
            let bottom = (next[2 * x], next[2 * x + 1])
            let right = top.1 > top.0
            let upper = right ? top.1 : top.0
            let bottomRight = bottom.1 > bottom.0
            let lower = bottomRight ? bottom.1 : bottom.0
            let down = lower > upper
            let best = down ? lower : upper
            output[o + x] = relu ? max(best, 0) : best
            win[o + x] = down ? (bottomRight ? 3 : 2) : (right ? 1 : 0)
          }
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
          // Every element of every window is written: the winner gets dy, the rest 0.
          let next = row + w
          for x in 0..<ow {
            let keep = !relu || output[o + x] > 0
            let g = keep ? dy[o + x] : 0
            let at = win[o + x]
            row[2 * x] = at == 0 ? g : 0
            row[2 * x + 1] = at == 1 ? g : 0
            next[2 * x] = at == 2 ? g : 0
            next[2 * x + 1] = at == 3 ? g : 0
          }
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
