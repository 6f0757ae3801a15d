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
  /// `peer_timeout` and `start_timeout`, in seconds: an hour of silence before a peer is marked
  /// down, a day for a cluster to start. Past that a wait has no deadline in practice.
  public static let peerTimeout = 3600.0
  public static let startTimeout = 86_400.0
  /// Below this a timeout is shorter than a heartbeat round trip on a loaded machine: every peer
  /// would be marked down.
  public static let minimumTimeout = 0.1
  /// Entries of `alpha_list`.
  public static let alphaList = 1000
  /// `krum_f`: Byzantine neighbours Krum tolerates.
  public static let krumF = 1000
  /// Uids are TCP port offsets (a graph has at most 65,535 nodes).
  public static let uid = 65_534
}
