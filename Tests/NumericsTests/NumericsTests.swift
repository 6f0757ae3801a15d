import XCTest

@testable import Numerics

final class BLASTests: XCTestCase {
  /// sgemm against a naive triple loop for every transpose combination.
  func testGemmMatchesNaiveLoopForAllTransposes() {
    var rng = Xoshiro256(seed: 1)
    let m = 5
    let n = 7
    let k = 3
    let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
    let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
    for ta in [BLAS.Transpose.none, .transpose] {
      for tb in [BLAS.Transpose.none, .transpose] {
        // Stored layouts: A is m×k (or k×m if transposed), B is k×n (or n×k).
        var c = [Float](repeating: 0, count: m * n)
        BLAS.gemm(
          ta, tb, m: m, n: n, k: k, a: a, lda: ta == .none ? k : m, b: b, ldb: tb == .none ? n : k,
          c: &c, ldc: n)
        for i in 0..<m {
          for j in 0..<n {
            var s: Float = 0
            for p in 0..<k {
              let av = ta == .none ? a[i * k + p] : a[p * m + i]
              let bv = tb == .none ? b[p * n + j] : b[j * k + p]
              s += av * bv
            }
            XCTAssertEqual(c[i * n + j], s, accuracy: 1e-5)
          }
        }
      }
    }
  }

  func testVectorRoutines() {
    let x: [Float] = [1, 2, 3]
    var y: [Float] = [10, 20, 30]
    BLAS.axpy(count: 3, alpha: 2, x: x, y: &y)
    XCTAssertEqual(y, [12, 24, 36])
    BLAS.scal(count: 3, alpha: 0.5, x: &y)
    XCTAssertEqual(y, [6, 12, 18])
    XCTAssertEqual(BLAS.dot(count: 3, x: x, y: y), 6 + 24 + 54)
    XCTAssertEqual(BLAS.nrm2(count: 3, x: x), Float(14).squareRoot(), accuracy: 1e-6)
    var out: [Float] = [0, 0]
    // [[1,2,3],[4,5,6]] · [1,2,3]
    BLAS.gemv(.none, m: 2, n: 3, a: [1, 2, 3, 4, 5, 6], lda: 3, x: x, y: &out)
    XCTAssertEqual(out, [14, 32])
  }
}

final class Im2colTests: XCTestCase {
  /// Convolution via im2col+gemm equals a direct convolution, with stride and padding.
  func testIm2colConvolutionMatchesDirect() {
    var rng = Xoshiro256(seed: 7)
    for (stride, padding) in [(1, 0), (1, 2), (2, 1), (3, 0)] {
      let g = ConvGeometry(
        channels: 2, height: 7, width: 6, kernelHeight: 3, kernelWidth: 3, stride: stride, padding: padding)
      let input = (0..<(2 * 7 * 6)).map { _ in rng.uniform(-1, 1) }
      let kernel = (0..<(g.columnRows)).map { _ in rng.uniform(-1, 1) }
      var cols = [Float](repeating: .nan, count: g.columnRows * g.columnCols)
      Im2col.im2col(g, input: input, columns: &cols)
      var out = [Float](repeating: 0, count: g.columnCols)
      BLAS.gemm(
        .none, .none, m: 1, n: g.columnCols, k: g.columnRows, a: kernel, lda: g.columnRows, b: cols, ldb: g.columnCols,
        c: &out, ldc: g.columnCols)
      for oy in 0..<g.outputHeight {
        for ox in 0..<g.outputWidth {
          var s: Float = 0
          for c in 0..<2 {
            for ky in 0..<3 {
              for kx in 0..<3 {
                let iy = oy * stride - padding + ky
                let ix = ox * stride - padding + kx
                if iy >= 0 && iy < 7 && ix >= 0 && ix < 6 {
                  s += input[c * 42 + iy * 6 + ix] * kernel[c * 9 + ky * 3 + kx]
                }
              }
            }
          }
          XCTAssertEqual(out[oy * g.outputWidth + ox], s, accuracy: 1e-4)
        }
      }
    }
  }

  /// im2col equals its definition exactly on widths that exercise every copy path (under 4,
  /// 4–7, 8 and more, with an overlapping tail), with and without padding, stride 1 and 2, and
  /// col2im stays its adjoint on each.
  func testIm2colMatchesDefinitionOnManyGeometries() {
    var rng = Xoshiro256(seed: 11)
    for width in [3, 5, 9, 14, 28] {
      for (kernel, padding, stride) in [(1, 0, 1), (3, 1, 1), (5, 2, 1), (3, 0, 2), (5, 2, 2)]
      where kernel <= width + 2 * padding {
        let g = ConvGeometry(
          channels: 2, height: 6, width: width, kernelHeight: kernel, kernelWidth: kernel, stride: stride,
          padding: padding)
        guard g.outputHeight > 0, g.outputWidth > 0 else { continue }
        let x = (0..<(2 * 6 * width)).map { _ in rng.uniform(-1, 1) }
        var cols = [Float](repeating: .nan, count: g.columnRows * g.columnCols)
        Im2col.im2col(g, input: x, columns: &cols)
        var row = 0
        for c in 0..<2 {
          for ky in 0..<kernel {
            for kx in 0..<kernel {
              for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                  let iy = oy * stride - padding + ky
                  let ix = ox * stride - padding + kx
                  let expected = iy >= 0 && iy < 6 && ix >= 0 && ix < width ? x[(c * 6 + iy) * width + ix] : 0
                  XCTAssertEqual(cols[row * g.columnCols + oy * g.outputWidth + ox], expected, "\(g)")
                }
              }
              row += 1
            }
          }
        }
        let y = (0..<cols.count).map { _ in rng.uniform(-1, 1) }
        var back = [Float](repeating: 0, count: x.count)
        Im2col.col2im(g, columns: y, output: &back)
        let lhs = zip(cols, y).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let rhs = zip(x, back).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4, "\(g)")
      }
    }
  }

  /// col2im is the adjoint of im2col: <im2col(x), y> == <x, col2im(y)>.
  func testCol2imIsAdjoint() {
    var rng = Xoshiro256(seed: 9)
    let g = ConvGeometry(channels: 3, height: 5, width: 8, kernelHeight: 3, kernelWidth: 2, stride: 2, padding: 1)
    let x = (0..<(3 * 5 * 8)).map { _ in rng.uniform(-1, 1) }
    let y = (0..<(g.columnRows * g.columnCols)).map { _ in rng.uniform(-1, 1) }
    var cx = [Float](repeating: 0, count: y.count)
    Im2col.im2col(g, input: x, columns: &cx)
    var ty = [Float](repeating: 0, count: x.count)
    Im2col.col2im(g, columns: y, output: &ty)
    let lhs = zip(cx, y).reduce(0.0) { $0 + Double($1.0 * $1.1) }
    let rhs = zip(x, ty).reduce(0.0) { $0 + Double($1.0 * $1.1) }
    XCTAssertEqual(lhs, rhs, accuracy: 1e-4)
  }
}

final class RandomStreamsTests: XCTestCase {
  func testStreamsAreReproducibleAndIndependent() {
    let r = RandomStreams(seed: 42)
    var a = r.stream(.shuffle, index: 3)
    var b = r.stream(.shuffle, index: 3)
    var c = r.stream(.shuffle, index: 4)
    var d = r.stream(.sharing, index: 3)
    let sa = (0..<8).map { _ in a.next() }
    XCTAssertEqual(sa, (0..<8).map { _ in b.next() })
    XCTAssertNotEqual(sa, (0..<8).map { _ in c.next() })
    XCTAssertNotEqual(sa, (0..<8).map { _ in d.next() })
    var e = RandomStreams(seed: 43).stream(.shuffle, index: 3)
    XCTAssertNotEqual(sa, (0..<8).map { _ in e.next() })
  }

  func testUniformIntegersAreInRangeAndRoughlyUniform() {
    var rng = Xoshiro256(seed: 5)
    var counts = [Int](repeating: 0, count: 7)
    for _ in 0..<70_000 { counts[rng.nextInt(below: 7)] += 1 }
    for c in counts { XCTAssertEqual(Double(c), 10_000, accuracy: 500) }
  }

  func testNormalAndGammaMoments() {
    var rng = Xoshiro256(seed: 11)
    let n = 50_000
    let xs = (0..<n).map { _ in rng.normal() }
    let mean = xs.reduce(0, +) / Double(n)
    let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
    XCTAssertEqual(mean, 0, accuracy: 0.02)
    XCTAssertEqual(variance, 1, accuracy: 0.03)
    for shape in [0.3, 1.0, 4.0] {
      let gs = (0..<n).map { _ in rng.gamma(shape: shape) }
      XCTAssertEqual(gs.reduce(0, +) / Double(n), shape, accuracy: 0.05 * max(1, shape))
    }
    let p = rng.dirichlet(alpha: 0.5, count: 10)
    XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-9)
  }

  func testShuffleIsAPermutation() {
    var rng = Xoshiro256(seed: 3)
    var xs = Array(0..<100)
    rng.shuffle(&xs)
    XCTAssertNotEqual(xs, Array(0..<100))
    XCTAssertEqual(xs.sorted(), Array(0..<100))
    let s = rng.sample(10, from: 20)
    XCTAssertEqual(Set(s).count, 10)
    XCTAssertTrue(s.allSatisfy { $0 < 20 })
  }
}
