/// Winograd's minimal filtering F(2×2, 5×5), the transforms around the sgemms of a stride-1
/// 5×5 convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
///
/// A 2×2 block of outputs is computed from a 6×6 input tile d and a 5×5 filter g as
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
///
/// with 36 multiplications instead of 100. Over channels the elementwise product becomes 36
/// independent sgemms, one per tile component ξ: M[ξ] (out×tiles) = U[ξ] (out×in) · V[ξ]
/// (in×tiles), a third of im2col's arithmetic. The matrices come from the interpolation points
/// 0, ±1, ±2 and ∞ (the same points as the common F(4×4, 3×3)); in float32 the result differs
/// from direct convolution by about 1e-6 relative.
///
/// Each function below works on one plane and vectorises across eight tiles of a tile row,
/// which is one `SIMD8<Float>` per tile component. Transformed matrices are laid out component
/// by component: element (ξ, row, tile) lives at `ξ·componentStride + row·rowStride + tile`, and
/// the functions take a pointer already offset to (0, row, first tile of the plane). A store of
/// eight lanes may write up to seven floats past a plane's last tile, so callers leave eight
/// floats of slack after each matrix row.
public enum Winograd {
  /// Components of a transformed tile (6×6).
  public static let components = 36
  /// Lanes per vector: tiles transformed together.
  static let lanes = 8

  public typealias Vector = SIMD8<Float>

  /// Tiles along one axis for `outputs` outputs.
  public static func tiles(_ outputs: Int) -> Int { (outputs + 1) / 2 }

  // MARK: Filters

  /// U = G g Gᵀ for `count` filters of 25 floats each (PyTorch's [out][in][5][5] layout read as
  /// `count` consecutive 5×5 filters); filter q's component ξ goes to `u[ξ·count + q]`, so U[ξ]
  /// is the out×in matrix the forward sgemm reads. `u` holds `36·count` floats.
  public static func transformFilters(_ weights: UnsafePointer<Float>, count: Int, into u: UnsafeMutablePointer<Float>)
  {
    withTile { t in
      for q0 in stride(from: 0, to: count, by: lanes) {
        let n = min(lanes, count - q0)
        for k in 0..<25 {
          var v = Vector()
          for lane in 0..<n { v[lane] = weights[(q0 + lane) * 25 + k] }
          t[(k / 5) * 6 + k % 5] = v
        }
        for j in 0..<5 { filter1D(t + j, 6) }  // columns: 5×5 → 6×5
        for i in 0..<6 { filter1D(t + i * 6, 1) }  // rows: 6×5 → 6×6
        for xi in 0..<components {
          // A partial vector stored whole would overwrite the next component's first filters.
          if n == lanes {
            store(t[xi], u + xi * count + q0)
          } else {
            for lane in 0..<n { u[xi * count + q0 + lane] = t[xi][lane] }
          }
        }
      }
    }
  }

  /// The adjoint of `transformFilters`: dg = Gᵀ dU G, written (not added) to `count` 5×5
  /// filters in PyTorch's layout.
  public static func filterGradient(_ du: UnsafePointer<Float>, count: Int, into gradient: UnsafeMutablePointer<Float>)
  {
    withTile { t in
      for q0 in stride(from: 0, to: count, by: lanes) {
        let n = min(lanes, count - q0)
        for xi in 0..<components {
          // A partial vector loaded whole would read past the last component's end.
          if n == lanes {
            t[xi] = load(du + xi * count + q0)
          } else {
            var v = Vector()
            for lane in 0..<n { v[lane] = du[xi * count + q0 + lane] }
            t[xi] = v
          }
        }
        for i in 0..<6 { filterAdjoint1D(t + i * 6, 1) }  // rows: 6×6 → 6×5
        for j in 0..<5 { filterAdjoint1D(t + j, 6) }  // columns: 6×5 → 5×5
        for k in 0..<25 {
          let v = t[(k / 5) * 6 + k % 5]
          for lane in 0..<n { gradient[(q0 + lane) * 25 + k] = v[lane] }
        }
      }
    }
  }

  // MARK: Inputs

  /// V = Bᵀ d B for every tile of one zero-padded input plane: tile (ty, tx) is the 6×6 window
  /// at (2ty, 2tx), and goes to column ty·tilesX + tx. The plane's rows are `pitch` floats apart
  /// and it needs 32 floats of slack after its last row (the vector loads of the last tiles read
  /// past it; those lanes are discarded).
  public static func transformInput(
    _ padded: UnsafePointer<Float>, pitch: Int, tilesY: Int, tilesX: Int, into v: UnsafeMutablePointer<Float>,
    componentStride: Int
  ) {
    forEachVector(tilesY: tilesY, tilesX: tilesX) { t, ty, tx0 in
      let window = padded + 2 * ty * pitch + 2 * tx0
      for i in 0..<6 {
        for j in 0..<6 { t[i * 6 + j] = loadEven(window + i * pitch + j) }
      }
      for j in 0..<6 { input1D(t + j, 6) }
      for i in 0..<6 { input1D(t + i * 6, 1) }
      let column = v + ty * tilesX + tx0
      for xi in 0..<components { store(t[xi], column + xi * componentStride) }
    }
  }

  /// The adjoint of `transformInput`: adds B dV Bᵀ of every tile into the padded plane at its
  /// window. The plane needs 32 floats of slack after its last row (lanes past the last tile add
  /// zeros there).
  public static func inputGradient(
    _ dv: UnsafePointer<Float>, componentStride: Int, tilesY: Int, tilesX: Int,
    into padded: UnsafeMutablePointer<Float>, pitch: Int
  ) {
    forEachVector(tilesY: tilesY, tilesX: tilesX) { t, ty, tx0 in
      let live = firstLanes(min(lanes, tilesX - tx0))
      let column = dv + ty * tilesX + tx0
      for xi in 0..<components { t[xi] = load(column + xi * componentStride).replacing(with: 0, where: .!live) }
      for i in 0..<6 { inputAdjoint1D(t + i * 6, 1) }
      for j in 0..<6 { inputAdjoint1D(t + j, 6) }
      let window = padded + 2 * ty * pitch + 2 * tx0
      for i in 0..<6 {
        let row = window + i * pitch
        // Columns j and j+1 of eight tiles interleave into 16 consecutive floats.
        for j in stride(from: 0, to: 6, by: 2) { add(interleave(t[i * 6 + j], t[i * 6 + j + 1]), row + j) }
      }
    }
  }

  // MARK: Planes

  /// Copies an image plane (height × width) into the interior of a scratch plane whose rows are
  /// `pitch` floats apart, `padding` rows and columns in. The scratch's border is left as it is:
  /// zero it once and every plane copied in after keeps it.
  public static func pad(
    _ plane: UnsafePointer<Float>, height: Int, width: Int, padding: Int, into scratch: UnsafeMutablePointer<Float>,
    pitch: Int
  ) {
    for y in 0..<height { Im2col.copy(scratch + (y + padding) * pitch + padding, plane + y * width, width) }
  }

  /// Copies `height` rows of `width` floats out of a scratch plane whose rows are `pitch` floats
  /// apart, starting at (`offset`, `offset`), into a dense plane.
  public static func crop(
    _ scratch: UnsafePointer<Float>, pitch: Int, offset: Int, height: Int, width: Int,
    into plane: UnsafeMutablePointer<Float>
  ) {
    for y in 0..<height { Im2col.copy(plane + y * width, scratch + (y + offset) * pitch + offset, width) }
  }

  // MARK: Outputs

  /// Y = Aᵀ M A plus `bias` for every tile of one output plane, written as rows of `pitch`
  /// floats, 2·tilesY rows of 2·tilesX outputs. `pitch` must be a multiple of 16 that holds
  /// every tile row's vectors: 16·⌈tilesX/8⌉ or more.
  public static func transformOutput(
    _ m: UnsafePointer<Float>, componentStride: Int, tilesY: Int, tilesX: Int, bias: Float,
    into output: UnsafeMutablePointer<Float>, pitch: Int
  ) {
    forEachVector(tilesY: tilesY, tilesX: tilesX) { t, ty, tx0 in
      let column = m + ty * tilesX + tx0
      for xi in 0..<components { t[xi] = load(column + xi * componentStride) }
      // Columns, then rows: 6×6 → 2×6 → 2×2, each entry one vector across the tiles.
      for j in 0..<6 { output1D(t + j, 6) }
      for i in 0..<2 { output1D(t + i * 6, 1) }
      let top = output + 2 * ty * pitch + 2 * tx0
      store(interleave(t[0] + bias, t[1] + bias), top)
      store(interleave(t[6] + bias, t[7] + bias), top + pitch)
    }
  }

  /// The adjoint of `transformOutput`: dM = A dY Aᵀ for every tile, from rows of `pitch`
  /// floats laid out as `transformOutput` writes them.
  public static func outputGradient(
    _ dy: UnsafePointer<Float>, pitch: Int, tilesY: Int, tilesX: Int, into dm: UnsafeMutablePointer<Float>,
    componentStride: Int
  ) {
    forEachVector(tilesY: tilesY, tilesX: tilesX) { t, ty, tx0 in
      let top = load16(dy + 2 * ty * pitch + 2 * tx0)
      let bottom = load16(dy + (2 * ty + 1) * pitch + 2 * tx0)
      t[0] = top.evenHalf
      t[1] = top.oddHalf
      t[6] = bottom.evenHalf
      t[7] = bottom.oddHalf
      for i in 0..<2 { outputAdjoint1D(t + i * 6, 1) }
      for j in 0..<6 { outputAdjoint1D(t + j, 6) }
      let column = dm + ty * tilesX + tx0
      for xi in 0..<components { store(t[xi], column + xi * componentStride) }
    }
  }
}

// MARK: - One-dimensional transforms

extension Winograd {
  /// Bᵀ applied in place to six vectors `s` apart.
  @inline(__always)
  static func input1D(_ p: UnsafeMutablePointer<Vector>, _ s: Int) {
    let (d0, d1, d2, d3, d4, d5) = (p[0], p[s], p[2 * s], p[3 * s], p[4 * s], p[5 * s])
    let a = 4 * d1 - d3
    let b = 4 * d2 - d4
    let c = 2 * (d3 - d1)
    let e = d4 - d2
    p[0] = 4 * d0 - 5 * d2 + d4
    p[s] = a + b
    p[2 * s] = b - a
    p[3 * s] = c + e
    p[4 * s] = e - c
    p[5 * s] = 4 * d1 - 5 * d3 + d5
  }

  /// B applied in place: the transpose of `input1D`.
  @inline(__always)
  static func inputAdjoint1D(_ p: UnsafeMutablePointer<Vector>, _ s: Int) {
    let (x0, x1, x2, x3, x4, x5) = (p[0], p[s], p[2 * s], p[3 * s], p[4 * s], p[5 * s])
    let sum12 = x1 + x2
    let sum34 = x3 + x4
    p[0] = 4 * x0
    p[s] = 4 * (x1 - x2) + 2 * (x4 - x3) + 4 * x5
    p[2 * s] = 4 * sum12 - sum34 - 5 * x0
    p[3 * s] = (x2 - x1) + 2 * (x3 - x4) - 5 * x5
    p[4 * s] = x0 - sum12 + sum34
    p[5 * s] = x5
  }

  /// G applied to five vectors `s` apart, giving six (the sixth written at 5·s).
  @inline(__always)
  static func filter1D(_ p: UnsafeMutablePointer<Vector>, _ s: Int) {
    let (g0, g1, g2, g3, g4) = (p[0], p[s], p[2 * s], p[3 * s], p[4 * s])
    let even = g0 + g2 + g4
    let odd = g1 + g3
    let evenWeighted = g0 / 24 + g2 / 6 + g4 * (2 / 3 as Float)
    let oddWeighted = g1 / 12 + g3 / 3
    p[0] = g0 / 4
    p[s] = (even + odd) / 6
    p[2 * s] = (even - odd) / 6
    p[3 * s] = evenWeighted + oddWeighted
    p[4 * s] = evenWeighted - oddWeighted
    p[5 * s] = g4
  }

  /// Gᵀ applied to six vectors `s` apart, giving five.
  @inline(__always)
  static func filterAdjoint1D(_ p: UnsafeMutablePointer<Vector>, _ s: Int) {
    let (x0, x1, x2, x3, x4, x5) = (p[0], p[s], p[2 * s], p[3 * s], p[4 * s], p[5 * s])
    let sum12 = x1 + x2
    let diff12 = x1 - x2
    let sum34 = x3 + x4
    let diff34 = x3 - x4
    p[0] = x0 / 4 + sum12 / 6 + sum34 / 24
    p[s] = diff12 / 6 + diff34 / 12
    p[2 * s] = (sum12 + sum34) / 6
    p[3 * s] = diff12 / 6 + diff34 / 3
    p[4 * s] = sum12 / 6 + sum34 * (2 / 3 as Float) + x5
  }

  /// Aᵀ applied to six vectors `s` apart, giving two.
  @inline(__always)
  static func output1D(_ p: UnsafeMutablePointer<Vector>, _ s: Int) {
    let (m0, m1, m2, m3, m4, m5) = (p[0], p[s], p[2 * s], p[3 * s], p[4 * s], p[5 * s])
    p[0] = m0 + (m1 + m2) + (m3 + m4)
    p[s] = (m1 - m2) + 2 * (m3 - m4) + m5
  }

  /// A applied to two vectors `s` apart, giving six.
  @inline(__always)
  static func outputAdjoint1D(_ p: UnsafeMutablePointer<Vector>, _ s: Int) {
    let (y0, y1) = (p[0], p[s])
    p[s] = y0 + y1
    p[2 * s] = y0 - y1
    p[3 * s] = y0 + 2 * y1
    p[4 * s] = y0 - 2 * y1
    p[5 * s] = y1
  }

  // MARK: Memory

  /// Calls `body` for each vector of tiles, tile row by tile row, eight tiles (or the row's
  /// last few) at a time, with a 36-vector scratch tile on the stack.
  @inline(__always)
  static func forEachVector(
    tilesY: Int, tilesX: Int, _ body: (_ tile: UnsafeMutablePointer<Vector>, _ ty: Int, _ tx0: Int) -> Void
  ) {
    withTile { t in
      for ty in 0..<tilesY {
        for tx0 in stride(from: 0, to: tilesX, by: lanes) { body(t, ty, tx0) }
      }
    }
  }

  /// Runs `body` with a 36-vector scratch tile on the stack.
  @inline(__always)
  static func withTile(_ body: (UnsafeMutablePointer<Vector>) -> Void) {
    withUnsafeTemporaryAllocation(of: Vector.self, capacity: components) { body($0.baseAddress!) }
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

  @inline(__always)
  static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
  }

  /// Elements 0, 2, …, 14 from `p`: one window column of eight tiles two apart.
  @inline(__always)
  static func loadEven(_ p: UnsafePointer<Float>) -> Vector { load16(p).evenHalf }

  @inline(__always)
  static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
  }

  @inline(__always)
  static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
  }

  @inline(__always)
  static func add(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    store(load16(p) + v, p)
  }

  /// A mask of the first `count` lanes: the tiles a vector really holds.
  @inline(__always)
  static func firstLanes(_ count: Int) -> SIMDMask<SIMD8<Int32>> {
    SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .< SIMD8<Int32>(repeating: Int32(count))
  }

  /// a₀ b₀ a₁ b₁ … a₇ b₇.
  @inline(__always)
  static func interleave(_ a: Vector, _ b: Vector) -> SIMD16<Float> {
    SIMD16(
      a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
  }
}
