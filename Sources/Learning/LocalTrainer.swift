import Datasets
import Models
import Numerics

/// Local training between exchanges: `rounds` mini-batch steps, or `rounds` full epochs when
/// `full_epochs = True` (decentralizepy's `Training`).
///
/// The batch and the iterator live as long as the node, so a step allocates nothing. Between
/// batches the trainer lets the node service the network, so a long epoch neither starves
/// neighbours' HELLOs nor looks like a dead peer.
public final class LocalTrainer {
  private var iterator: BatchIterator
  private var batch = Batch()
  let stepsPerRound: Int
  let fullEpochs: Bool
  public let sampleCount: Int

  public init(
    data: any SampleSource, batchSize: Int, stepsPerRound: Int, fullEpochs: Bool, shuffle: Bool, rng: Xoshiro256
  ) {
    iterator = BatchIterator(source: data, batchSize: batchSize, shuffle: shuffle, rng: rng)
    self.stepsPerRound = stepsPerRound
    self.fullEpochs = fullEpochs
    sampleCount = data.count
  }

  /// Trains for one round; returns the mean mini-batch loss, or nil when no step ran.
  public func train(node: Node) -> Double? {
    guard sampleCount > 0 else { return nil }
    var lossSum = 0.0
    var steps = 0
    var lastService = MonotonicClock.now()
    func step() {
      let loss = node.model.computeGradients(batch)
      node.optimizer.step(node.model)
      lossSum += Double(loss)
      steps += 1
      let now = MonotonicClock.now()
      if now - lastService > 0.2 {
        node.serviceNetwork()
        lastService = now
      }
    }
    if fullEpochs {
      for _ in 0..<stepsPerRound {
        while iterator.next(into: &batch) { step() }
      }
    } else {
      while steps < stepsPerRound {
        if iterator.next(into: &batch) {
          step()
        } else if iterator.batchesPerEpoch == 0 {
          break
        }
      }
    }
    return steps > 0 ? lossSum / Double(steps) : nil
  }
}
