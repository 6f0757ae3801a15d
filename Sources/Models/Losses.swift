import Numerics

#if canImport(Glibc)
  import Glibc
#endif

/// Loss functions on a batch of outputs: mean over the batch, as PyTorch's defaults.
enum Losses {
  /// Writes d(mean loss)/d(output) into `gradient` and returns the mean loss.
  static func lossAndGradient(
    _ kind: LossKind, output: UnsafePointer<Float>, classes: Int, batch: Batch, gradient: UnsafeMutablePointer<Float>
  ) -> Float {
    let n = batch.count
    switch kind {
    case .crossEntropy:
      var total = 0.0
      for s in 0..<n {
        let row = output + s * classes
        let g = gradient + s * classes
        let label = Int(batch.labels[s])
        total += Double(softmax(row, classes: classes, into: g, label: label))
        g[label] -= 1
        for c in 0..<classes { g[c] /= Float(n) }
      }
      return Float(total / Double(n))
    case .meanSquaredError:
      var total = 0.0
      for s in 0..<n {
        let diff = output[s] - batch.targets[s]
        total += Double(diff * diff)
        gradient[s] = 2 * diff / Float(n)
      }
      return Float(total / Double(n))
    }
  }

  /// Numerically stable softmax of `row` into `probabilities`; returns −log p(label).
  static func softmax(
    _ row: UnsafePointer<Float>, classes: Int, into probabilities: UnsafeMutablePointer<Float>, label: Int
  ) -> Float {
    var m = -Float.infinity
    for c in 0..<classes { m = max(m, row[c]) }
    var sum: Float = 0
    for c in 0..<classes {
      probabilities[c] = expf(row[c] - m)
      sum += probabilities[c]
    }
    for c in 0..<classes { probabilities[c] /= sum }
    return -(row[label] - m - logf(sum))
  }

  static func tally(
    _ kind: LossKind, output: UnsafePointer<Float>, classes: Int, batch: Batch, into tally: inout EvaluationTally
  ) {
    let n = batch.count
    switch kind {
    case .crossEntropy:
      for s in 0..<n {
        let row = output + s * classes
        var m = -Float.infinity
        var best = 0
        for c in 0..<classes where row[c] > m {
          m = row[c]
          best = c
        }
        var sum: Float = 0
        for c in 0..<classes { sum += expf(row[c] - m) }
        let label = Int(batch.labels[s])
        tally.lossSum += Double(-(row[label] - m - logf(sum)))
        if best == label { tally.correct += 1 }
      }
    case .meanSquaredError:
      for s in 0..<n {
        let diff = Double(output[s] - batch.targets[s])
        tally.lossSum += diff * diff
        tally.squaredError += diff * diff
      }
    }
    tally.count += n
  }
}
