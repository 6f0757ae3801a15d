import COpenBLAS
import Foundation

/// Thin, typed wrappers over the CBLAS routines peerd's hot paths use.
///
/// Every dense multiply, average and norm in the project goes through here so that one place
/// decides the BLAS binding. All matrices are row-major. OpenBLAS is expected to run on one
/// thread (see `BLAS.threadReport`): many peers share a machine and parallelism across
/// processes beats parallelism inside one.
public enum BLAS {
  /// When true, every call takes one process-wide lock.
  ///
  /// peerd itself calls BLAS from one thread per process and never sets this. Tests that run
  /// several nodes as threads of one process must: the serial OpenBLAS build that peerd prefers
  /// is not safe to call from two threads at once (it shares one work buffer), and concurrent
  /// calls then silently corrupt results. Set it before starting the threads.
  nonisolated(unsafe) public static var serializesCalls = false
  private static let lock = NSLock()

  @inline(__always)
  static func guarded<T>(_ body: () -> T) -> T {
    guard serializesCalls else { return body() }
    lock.lock()
    defer { lock.unlock() }
    return body()
  }

  /// Whether an operand is used as stored or transposed.
  public enum Transpose: Sendable {
    case none, transpose
    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
  }

  /// C ← alpha·op(A)·op(B) + beta·C, with op(A) m×k, op(B) k×n, C m×n (row-major).

  public static func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    guarded {
      cblas_sgemm(
        CblasRowMajor, transA.cblas, transB.cblas, Int32(m), Int32(n), Int32(k),
        alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
  }

  /// y ← alpha·op(A)·x + beta·y, A stored m×n row-major.

  public static func gemv(
    _ trans: Transpose, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
  ) {
    guarded { cblas_sgemv(CblasRowMajor, trans.cblas, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1) }
  }

  /// y ← alpha·x + y over `count` elements.

  public static func axpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    guarded { cblas_saxpy(Int32(count), alpha, x, 1, y, 1) }
  }

  /// x ← alpha·x over `count` elements.

  public static func scal(count: Int, alpha: Float, x: UnsafeMutablePointer<Float>) {
    guarded { cblas_sscal(Int32(count), alpha, x, 1) }
  }

  /// Σ xᵢ·yᵢ.

  public static func dot(count: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
    guarded { cblas_sdot(Int32(count), x, 1, y, 1) }
  }

  /// Euclidean norm of x.

  public static func nrm2(count: Int, x: UnsafePointer<Float>) -> Float {
    guarded { cblas_snrm2(Int32(count), x, 1) }
  }

  /// The OpenBLAS build and thread count, for logs and benchmarks.
  public static var threadReport: String {
    let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
    return "\(config) threads=\(openblas_get_num_threads())"
  }
}
