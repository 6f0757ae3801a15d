/// The largest values peerd accepts for size and count keys.
///
/// Each bound is far above any real run and far below what would overflow an `Int` or exhaust
/// memory when multiplied by another setting, so a typo (`batch_size = 9223372036854775807`)
/// is a located error instead of a trap or a multi-gigabyte allocation. docs/configuration.md
/// lists them beside their keys.
public enum ConfigLimits {
  /// `batch_size`, `eval_batch_size`: more samples than any dataset peerd reads.
  public static let batchSize = 1_000_000
  /// `rounds`: local steps or epochs per communication round.
  public static let rounds = 1_000_000
  /// `iterations`, `test_after`, `train_evaluate_after`.
  public static let iterations = 100_000_000
  /// `shards` (per node) and `classes_per_node`.
  public static let shards = 1_000_000
  public static let classesPerNode = 10_000
  /// `embedding_dim` of MatrixFactorization.
  public static let embeddingDimension = 10_000
  /// One MLP hidden width, and the number of hidden layers.
  public static let hiddenWidth = 100_000
  public static let hiddenLayers = 100
  /// Synthetic data: training samples per node and test samples (every node generates the
  /// whole pool of `samples_per_node × nodes` samples, 240 bytes each).
  public static let samplesPerNode = 100_000
  public static let testSamples = 1_000_000
}
