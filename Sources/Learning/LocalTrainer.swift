import Datasets
import Models
import Numerics

/// Local training between exchanges: `rounds` mini-batch steps, or `rounds` full epochs when
/// `full_epochs = True` (decentralizepy's `Training`).
///
/// The batch and the iterator live as long as the node, so a step allocates nothing. Between
/// batches the trainer lets the node serve the network, so a long epoch neither starves peers'
/// HELLOs nor looks like a dead peer.
public final class LocalTrainer {
  private var iterator: BatchIterator
  private var batch = Batch()
  let stepsPerRound: Int
  let fullEpochs: Bool
  public let sampleCount: Int
  /// Seconds to let pass after each step (`NodePlan.stepPause`).
  public var stepPause = 0.0
  /// Computes this many times slower (`NodePlan.slowdown`): after each step, sleeps
  /// (slowdown − 1) × that step's own time on `clock`, pause included, so a straggler stays
  /// proportionally slower whatever the machine's load and model.
  public var slowdown = 1.0
  /// Real seconds between network services during a round.
  static let serviceInterval = 0.2

  public init(
    data: any SampleSource, batchSize: Int, stepsPerRound: Int, fullEpochs: Bool, shuffle: Bool, rng: Xoshiro256
  ) {
    iterator = BatchIterator(source: data, batchSize: batchSize, shuffle: shuffle, rng: rng)
    self.stepsPerRound = stepsPerRound
    self.fullEpochs = fullEpochs
    sampleCount = data.count
  }

  /// Trains for one round; returns the mean mini-batch loss, or nil when no step ran. `service`
  /// runs between batches at most every `serviceInterval` seconds of `clock`.
  public func train(model: any Model, optimizer: any Optimizer, clock: any Clock, service: () throws -> Void) rethrows
    -> Double?
  {
    guard sampleCount > 0 else { return nil }
    var lossSum = 0.0
    var steps = 0
    var lastService = clock.now()
    func step() throws {
      let started = slowdown > 1 ? clock.now() : 0
      let loss = model.computeGradients(batch)
      optimizer.step(model)
      lossSum += Double(loss)
      steps += 1
      if stepPause > 0 { clock.sleep(stepPause) }
      if slowdown > 1 { clock.sleep((slowdown - 1) * (clock.now() - started)) }
      let now = clock.now()
      if now - lastService > Self.serviceInterval {
        try service()
        lastService = now
      }
    }
    if fullEpochs {
      for _ in 0..<stepsPerRound {
        while iterator.next(into: &batch) { try step() }
      }
    } else {
      while steps < stepsPerRound {
        if iterator.next(into: &batch) {
          try step()
        } else if iterator.batchesPerEpoch == 0 {
          break
        }
      }
    }
    return steps > 0 ? lossSum / Double(steps) : nil
  }

  /// The batch order and position, for a checkpoint.
  public var iteratorState: BatchIterator.State { iterator.state }

  public func restore(_ state: BatchIterator.State) throws { try iterator.restore(state) }
}
