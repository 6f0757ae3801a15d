/// A fixed-size, 64-byte-aligned Float32 buffer that is allocated once and reused.
///
/// Models keep their whole parameter vector and their whole gradient vector in one
/// `FloatBuffer` each (DESIGN decision 1): averaging is one BLAS call over it, partial sharing
/// is a gather by index, and serialization is its bytes. Workspaces for im2col, activations and
/// batches are `FloatBuffer`s too, so no hot loop allocates.
///
/// A buffer is a reference type owned by one thread (the node loop); it is not `Sendable`.
public final class FloatBuffer {
  /// The storage. Its address is stable for the buffer's lifetime.
  public let storage: UnsafeMutableBufferPointer<Float>

  /// Allocates `count` floats, all zero.
  public init(count: Int) {
    precondition(count >= 0, "FloatBuffer count must be non-negative")
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
    let typed = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    typed.initialize(repeating: 0, count: max(count, 1))
    storage = UnsafeMutableBufferPointer(start: typed, count: count)
  }

  /// Allocates a buffer holding a copy of `values`.
  public convenience init(_ values: [Float]) {
    self.init(count: values.count)
    for i in 0..<values.count { storage[i] = values[i] }
  }

  deinit { UnsafeMutableRawPointer(storage.baseAddress!).deallocate() }

  public var count: Int { storage.count }
  public var pointer: UnsafeMutablePointer<Float> { storage.baseAddress! }

  public subscript(index: Int) -> Float {
    get { storage[index] }
    set { storage[index] = newValue }
  }

  /// Sets every element to zero.
  public func zero() {
    guard count > 0 else { return }
    pointer.update(repeating: 0, count: count)
  }

  /// Copies `other` into this buffer; both must have the same count.
  public func copy(from other: FloatBuffer) {
    precondition(other.count == count, "FloatBuffer.copy: count mismatch \(other.count) vs \(count)")
    guard count > 0 else { return }
    pointer.update(from: other.pointer, count: count)
  }

  /// A copy of the contents as an array (tests, serialization of small vectors).
  public var array: [Float] { Array(storage) }

  /// A view of `count` floats starting at `offset`.
  public func slice(_ offset: Int, _ length: Int) -> UnsafeMutableBufferPointer<Float> {
    precondition(offset >= 0 && length >= 0 && offset + length <= count, "FloatBuffer.slice out of range")
    return UnsafeMutableBufferPointer(start: pointer + offset, count: length)
  }
}
