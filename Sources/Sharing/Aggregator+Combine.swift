import Numerics

extension Aggregator {
  /// own ← ownScale·own + Σ coefficient·vector, in one blocked pass over `own` (each block of
  /// every vector read once, while the block of `own` stays in L1), in the order given.
  ///
  /// CHOCO's consensus step x ← x + γ·Σⱼ wⱼ·(x̂ⱼ − x̂_self) is this with the public copies as
  /// vectors; like the dense average it reads each copy once per round.
  public func combine(into own: FloatBuffer, ownScale: Float, terms: [(vector: FloatBuffer, coefficient: Float)]) {
    for term in terms { precondition(term.vector.count == own.count, "Aggregator.combine: size mismatch") }
    for start in stride(from: 0, to: own.count, by: Self.block) {
      let n = min(Self.block, own.count - start)
      let block = own.pointer + start
      if ownScale != 1 { BLAS.scal(count: n, alpha: ownScale, x: block) }
      for term in terms where term.coefficient != 0 {
        BLAS.axpy(count: n, alpha: term.coefficient, x: term.vector.pointer + start, y: block)
      }
    }
  }
}
