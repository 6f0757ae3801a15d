import Numerics

/// Rating prediction r̂(u, i) = ⟨p_u, q_i⟩ + b_u + c_i + g (seed 001 §2.1), trained with MSE.
///
/// Layout of the flat vector: user embeddings (users × dim), item embeddings (items × dim), user
/// biases, item biases, one global bias. The gradient is sparse: a batch of 16 ratings touches at
/// most 16 user and 16 item rows, so `computeGradients` writes only those rows (and zeroes the
/// rows it wrote last time), and SGD updates only them. That is what makes a step take
/// microseconds instead of sweeping 217 k parameters.
///
/// Initialisation: embeddings N(0, 0.1²), biases 0. The global bias lets the model learn the
/// mean rating (≈ 3.5) in a handful of steps, which decentralizepy's bias-free model (started at
/// PyTorch's N(0, 1) embeddings) never recovers from; see docs/models.md.
public final class MatrixFactorization: Model {
  public let name = "MatrixFactorization"
  public let users: Int
  public let items: Int
  public let dimension: Int
  public let parameters: FloatBuffer
  public let gradients: FloatBuffer
  public let layout: [ParameterTensor]
  public var lossKind: LossKind { .meanSquaredError }
  public var parameterCount: Int { parameters.count }
  public private(set) var sparseGradient: SparseGradient?

  let itemOffset: Int, userBiasOffset: Int, itemBiasOffset: Int, globalOffset: Int
  private var touched: [Range<Int>] = []
  private var touchedUsers: [Int32] = []
  private var touchedItems: [Int32] = []

  public init(users: Int, items: Int, dimension: Int, rng: inout Xoshiro256) throws {
    guard users > 0, items > 0, dimension > 0 else {
      throw ModelError(
        "MatrixFactorization needs users, items and dimension > 0 (got \(users), \(items), \(dimension))")
    }
    let (rows, o1) = users.addingReportingOverflow(items)
    let (count, o2) = rows.multipliedReportingOverflow(by: dimension + 1)
    try ModelLimits.check(o1 || o2 ? Int.max : count + 1, "MatrixFactorization")
    self.users = users
    self.items = items
    self.dimension = dimension
    itemOffset = users * dimension
    userBiasOffset = itemOffset + items * dimension
    itemBiasOffset = userBiasOffset + users
    globalOffset = itemBiasOffset + items
    layout = [
      ParameterTensor(name: "user_embedding", offset: 0, shape: [users, dimension]),
      ParameterTensor(name: "item_embedding", offset: itemOffset, shape: [items, dimension]),
      ParameterTensor(name: "user_bias", offset: userBiasOffset, shape: [users]),
      ParameterTensor(name: "item_bias", offset: itemBiasOffset, shape: [items]),
      ParameterTensor(name: "global_bias", offset: globalOffset, shape: [1]),
    ]
    parameters = FloatBuffer(count: globalOffset + 1)
    gradients = FloatBuffer(count: globalOffset + 1)
    for i in 0..<userBiasOffset { parameters[i] = Float(0.1 * rng.normal()) }
  }

  @inline(__always) func valid(_ u: Int, _ i: Int) -> Bool { u >= 0 && u < users && i >= 0 && i < items }

  @inline(__always) func predict(_ u: Int, _ i: Int) -> Float {
    let p = parameters.pointer
    return BLAS.dot(count: dimension, x: p + u * dimension, y: p + itemOffset + i * dimension)
      + p[userBiasOffset + u] + p[itemBiasOffset + i] + p[globalOffset]
  }

  public func computeGradients(_ batch: Batch) -> Float {
    let g = gradients.pointer
    let p = parameters.pointer
    for r in touched { (g + r.lowerBound).update(repeating: 0, count: r.count) }
    touchedUsers.removeAll(keepingCapacity: true)
    touchedItems.removeAll(keepingCapacity: true)
    let n = batch.count
    guard n > 0 else {
      touched = []
      sparseGradient = SparseGradient(ranges: [])
      return 0
    }
    var loss = 0.0
    for s in 0..<n {
      let u = Int(batch.indices[2 * s])
      let i = Int(batch.indices[2 * s + 1])
      guard valid(u, i) else { continue }
      let diff = predict(u, i) - batch.targets[s]
      loss += Double(diff * diff)
      let d = 2 * diff / Float(n)
      let pu = p + u * dimension
      let qi = p + itemOffset + i * dimension
      BLAS.axpy(count: dimension, alpha: d, x: qi, y: g + u * dimension)
      BLAS.axpy(count: dimension, alpha: d, x: pu, y: g + itemOffset + i * dimension)
      g[userBiasOffset + u] += d
      g[itemBiasOffset + i] += d
      g[globalOffset] += d
      touchedUsers.append(Int32(u))
      touchedItems.append(Int32(i))
    }
    touched = Self.ranges(
      users: touchedUsers, items: touchedItems, dimension: dimension, itemOffset: itemOffset,
      userBiasOffset: userBiasOffset, itemBiasOffset: itemBiasOffset, globalOffset: globalOffset)
    sparseGradient = SparseGradient(ranges: touched)
    return Float(loss / Double(n))
  }

  /// Disjoint ascending ranges covering the touched rows and biases.
  static func ranges(
    users: [Int32], items: [Int32], dimension: Int, itemOffset: Int, userBiasOffset: Int, itemBiasOffset: Int,
    globalOffset: Int
  ) -> [Range<Int>] {
    var out: [Range<Int>] = []
    for u in Set(users).sorted() { out.append(Int(u) * dimension..<(Int(u) + 1) * dimension) }
    for i in Set(items).sorted() { out.append(itemOffset + Int(i) * dimension..<itemOffset + (Int(i) + 1) * dimension) }
    for u in Set(users).sorted() { out.append(userBiasOffset + Int(u)..<userBiasOffset + Int(u) + 1) }
    for i in Set(items).sorted() { out.append(itemBiasOffset + Int(i)..<itemBiasOffset + Int(i) + 1) }
    out.append(globalOffset..<globalOffset + 1)
    return out
  }

  /// Squared errors of the raw predictions, and as `correct` the predictions that equal the
  /// rating once clamped to [0.5, 5] and rounded to the nearest half star (ties to even, as
  /// `torch.round`): decentralizepy's MovieLens `test_acc`.
  public func evaluate(_ batch: Batch, into tally: inout EvaluationTally) {
    for s in 0..<batch.count {
      let u = Int(batch.indices[2 * s])
      let i = Int(batch.indices[2 * s + 1])
      guard valid(u, i) else { continue }
      let prediction = predict(u, i)
      let diff = Double(prediction - batch.targets[s])
      tally.lossSum += diff * diff
      tally.squaredError += diff * diff
      if Self.halfStar(prediction) == batch.targets[s] { tally.correct += 1 }
      tally.count += 1
    }
  }

  /// A predicted rating as a star rating: clamped to [0.5, 5], rounded to the nearest half.
  @inline(__always) static func halfStar(_ prediction: Float) -> Float {
    (min(max(prediction, 0.5), 5) * 2).rounded(.toNearestOrEven) / 2
  }
}
