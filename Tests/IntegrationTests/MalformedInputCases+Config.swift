import Foundation

/// The config rows of the malformed-input table: optimizer ranges, size bounds, MLP widths,
/// other keys and INI syntax. Lines are those of `MalformedInputTests.config` (lr is line 7).
extension MalformedInputTests {
  static let configCases: [Case] = [
    // Optimizer parameters (lines are the config's: lr is line 7).
    Case(
      name: "momentum -3", tool: .check, files: config("lr = 0.1", "lr = 0.1\nmomentum = -3"),
      expect: .error("peerctl check: $DIR/config.ini:8: [OPTIMIZER_PARAMS] momentum: must be in [0, 1), got -3")),
    Case(
      name: "momentum -3 (peerd)", tool: .peerd, files: config("lr = 0.1", "lr = 0.1\nmomentum = -3"),
      expect: .error("peerd: $DIR/config.ini:8: [OPTIMIZER_PARAMS] momentum: must be in [0, 1), got -3")),
    Case(
      name: "momentum 1", tool: .check, files: config("lr = 0.1", "lr = 0.1\nmomentum = 1"),
      expect: .error("peerctl check: $DIR/config.ini:8: [OPTIMIZER_PARAMS] momentum: must be in [0, 1), got 1")),
    Case(
      name: "dampening 2", tool: .check, files: config("lr = 0.1", "lr = 0.1\ndampening = 2"),
      expect: .error("peerctl check: $DIR/config.ini:8: [OPTIMIZER_PARAMS] dampening: must be in [0, 1], got 2")),
    Case(
      name: "beta2 1.5", tool: .check, files: config("lr = 0.1", "lr = 0.1\nbetas = (0.9, 1.5)"),
      expect: .error(
        "peerctl check: $DIR/config.ini:8: [OPTIMIZER_PARAMS] betas: each must be in [0, 1), got (0.9, 1.5)")
    ),
    Case(
      name: "eps 0", tool: .check, files: config("lr = 0.1", "lr = 0.1\neps = 0"),
      expect: .error(
        "peerctl check: $DIR/config.ini:8: [OPTIMIZER_PARAMS] eps: must be positive and within float32 range (1e-38 to 3e38), got 0"
      )),
    Case(
      name: "weight decay -1", tool: .check, files: config("lr = 0.1", "lr = 0.1\nweight_decay = -1"),
      expect: .error(
        "peerctl check: $DIR/config.ini:8: [OPTIMIZER_PARAMS] weight_decay: must be ≥ 0 and within float32 range (1e-38 to 3e38), got -1"
      )),
    Case(
      name: "lr 0", tool: .check, files: config("lr = 0.1", "lr = 0"),
      expect: .error(
        "peerctl check: $DIR/config.ini:7: [OPTIMIZER_PARAMS] lr: must be positive and within float32 range (1e-38 to 3e38), got 0"
      )),
    Case(
      name: "lr past float32", tool: .check, files: config("lr = 0.1", "lr = 1e39"),
      expect: .error(
        "peerctl check: $DIR/config.ini:7: [OPTIMIZER_PARAMS] lr: must be positive and within float32 range (1e-38 to 3e38), got 1e39"
      )),
    Case(
      name: "lr nan", tool: .check, files: config("lr = 0.1", "lr = nan"),
      expect: .error("peerctl check: $DIR/config.ini:7: [OPTIMIZER_PARAMS] lr: expected a number, got 'nan'")),
    Case(
      name: "nesterov without momentum", tool: .check, files: config("lr = 0.1", "lr = 0.1\nnesterov = True"),
      expect: .error(
        "peerctl check: $DIR/config.ini:8: [OPTIMIZER_PARAMS] nesterov: Nesterov momentum needs momentum > 0 and dampening = 0"
      )),
    Case(
      name: "unknown optimizer", tool: .check, files: config("optimizer_class = SGD", "optimizer_class = Adagrad"),
      expect: .error(
        "peerctl check: $DIR/config.ini:6: [OPTIMIZER_PARAMS] optimizer_class: 'Adagrad' is not supported; supported: SGD, Adam"
      )),
    // Sizes and counts.
    Case(
      name: "batch size Int.max", tool: .check, files: config("batch_size = 16", "batch_size = 9223372036854775807"),
      expect: .error(
        "peerctl check: $DIR/config.ini:10: [TRAIN_PARAMS] batch_size: must be between 1 and 1000000, got 9223372036854775807"
      )),
    Case(
      name: "batch size Int.max (peerd)", tool: .peerd,
      files: config("batch_size = 16", "batch_size = 9223372036854775807"),
      expect: .error(
        "peerd: $DIR/config.ini:10: [TRAIN_PARAMS] batch_size: must be between 1 and 1000000, got 9223372036854775807")),
    Case(
      name: "batch size past Int", tool: .check,
      files: config("batch_size = 16", "batch_size = 99999999999999999999999"),
      expect: .error(
        "peerctl check: $DIR/config.ini:10: [TRAIN_PARAMS] batch_size: must be between 1 and 1000000, got 99999999999999999999999"
      )),
    Case(
      name: "batch size 0", tool: .check, files: config("batch_size = 16", "batch_size = 0"),
      expect: .error(
        "peerctl check: $DIR/config.ini:10: [TRAIN_PARAMS] batch_size: must be between 1 and 1000000, got 0")),
    Case(
      name: "rounds past bound", tool: .check, files: config("rounds = 2", "rounds = 1000001"),
      expect: .error(
        "peerctl check: $DIR/config.ini:9: [TRAIN_PARAMS] rounds: must be between 1 and 1000000, got 1000001")),
    Case(
      name: "iterations 0", tool: .check, files: config("iterations = 2", "iterations = 0"),
      expect: .error("peerctl check: $DIR/config.ini:14: [NODE] iterations: must be between 1 and 100000000, got 0")),
    Case(
      name: "eval batch size", tool: .check,
      files: config("iterations = 2", "iterations = 2\neval_batch_size = 2000000"),
      expect: .error(
        "peerctl check: $DIR/config.ini:15: [NODE] eval_batch_size: must be between 1 and 1000000, got 2000000")),
    Case(
      name: "samples per node 0", tool: .check, files: config("samples_per_node = 50", "samples_per_node = 0"),
      expect: .error(
        "peerctl check: $DIR/config.ini:4: [DATASET] samples_per_node: must be between 1 and 100000, got 0")),
    Case(
      name: "embedding dim 0", tool: .check,
      files: config("samples_per_node = 50", "samples_per_node = 50\nembedding_dim = 0"),
      expect: .error("peerctl check: $DIR/config.ini:5: [DATASET] embedding_dim: must be between 1 and 10000, got 0")),
    // MLP widths.
    Case(
      name: "hidden sizes [0]", tool: .check,
      files: config("model_class = LogisticRegression", "model_class = MLP\nhidden_sizes = [0]"),
      expect: .error(
        "peerctl check: $DIR/config.ini:4: [DATASET] hidden_sizes: each width must be between 1 and 100000, got 0")),
    Case(
      name: "hidden sizes []", tool: .check,
      files: config("model_class = LogisticRegression", "model_class = MLP\nhidden_sizes = []"),
      expect: .error(
        "peerctl check: $DIR/config.ini:4: [DATASET] hidden_sizes: give at least one hidden width, like [200, 200]")),
    Case(
      name: "hidden sizes negative", tool: .check,
      files: config("model_class = LogisticRegression", "model_class = MLP\nhidden_sizes = [200, -5]"),
      expect: .error(
        "peerctl check: $DIR/config.ini:4: [DATASET] hidden_sizes: each width must be between 1 and 100000, got -5")),
    Case(
      name: "MLP too large", tool: .check,
      files: config("model_class = LogisticRegression", "model_class = MLP\nhidden_sizes = [100000, 100000]"),
      expect: .error("peerctl check: MLP would have 10007200010 parameters; the most peerd builds is 268435456")),
    // Other keys.
    Case(
      name: "log level loud", tool: .check, files: config("iterations = 2", "iterations = 2\nlog_level = loud"),
      expect: .error(
        "peerctl check: $DIR/config.ini:15: [NODE] log_level: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'"
      )),
    Case(
      name: "unknown model", tool: .check,
      files: config("model_class = LogisticRegression", "model_class = ResNet9000"),
      expect: .error(
        "peerctl check: $DIR/config.ini:3: [DATASET] model_class: 'ResNet9000' is not supported; supported: LogisticRegression, MLP, CNN, FemnistCNN, CelebaCNN, LeNet, MatrixFactorization"
      )),
    Case(
      name: "partition maybe", tool: .check,
      files: config("samples_per_node = 50", "samples_per_node = 50\npartition_niid = maybe"),
      expect: .error(
        "peerctl check: $DIR/config.ini:5: [DATASET] partition_niid: expected False, True (shards), dirichlet or classes, got 'maybe'"
      )),
    Case(
      name: "base port 70000", tool: .check, files: config("base_port = @PORT@", "base_port = 70000"),
      expect: .error(
        "peerctl check: $DIR/config.ini:12: [COMMUNICATION] base_port: must be a TCP port 1…65535, got 70000")),
    Case(
      name: "validation size 1", tool: .check,
      files: config("samples_per_node = 50", "samples_per_node = 50\nvalidation_size = 1"),
      expect: .error("peerctl check: $DIR/config.ini:5: [DATASET] validation_size: must be a fraction in [0, 1), got 1")
    ),
    Case(
      name: "peer timeout 0", tool: .check, files: config("iterations = 2", "iterations = 2\npeer_timeout = 0"),
      expect: .error("peerctl check: $DIR/config.ini:15: [NODE] peer_timeout: must be seconds in [0.1, 3600], got 0")),
    // Robust aggregation, differential privacy and the test-only attacker.
    Case(
      name: "krum with partial shares", tool: .check,
      files: config("[NODE]", "[SHARING]\nsharing_class = PartialModel\naggregation = krum\n[NODE]"),
      expect: .error(
        "peerctl check: $DIR/config.ini:15: [SHARING] aggregation: krum compares whole models and needs sharing_class = Sharing (got PartialModel); median and trimmed_mean take partial shares"
      )),
    Case(
      name: "dp_sigma without dp_clip", tool: .peerd, files: config("[NODE]", "[SHARING]\ndp_sigma = 1\n[NODE]"),
      expect: .error(
        "peerd: $DIR/config.ini:14: [SHARING] dp_sigma: needs dp_clip: the noise is dp_sigma × dp_clip, the bound on the shared update"
      )),
    Case(
      name: "attack without attackers", tool: .peerd,
      files: config("iterations = 2", "iterations = 2\nattack = scaled"),
      expect: .error(
        "peerd: $DIR/config.ini:13: [NODE] attackers: attack = scaled needs the attacking uids, like attackers = [3, 11]"
      )),
    Case(
      name: "attacker not in the graph", tool: .check,
      files: config("iterations = 2", "iterations = 2\nattack = random\nattackers = [5]"),
      expect: .error("peerctl check: $DIR/config.ini:16: [NODE] attackers: 5 is not a node of the 2-node graph")),
    Case(
      name: "zero training samples", tool: .check,
      files: config("samples_per_node = 50", "samples_per_node = 50\nsizes = [1.0, 0.0]"),
      expect: .error(
        "peerctl check: node 1 would get no training samples (sizes gives it 0.0 of 100 samples); every node needs at least one"
      )),
    Case(
      name: "zero training samples (peerd, node 1)", tool: .peerd,
      files: config("samples_per_node = 50", "samples_per_node = 50\nsizes = [1.0, 0.0]"), args: ["--uid", "1"],
      expect: .error(
        "peerd: node 1 would get no training samples (sizes gives it 0.0 of 100 samples); every node needs at least one"
      )),
    // INI syntax.
    Case(
      name: "duplicate key", tool: .check, files: config("rounds = 2", "rounds = 2\nrounds = 3"),
      expect: .error("peerctl check: $DIR/config.ini:10: [TRAIN_PARAMS] rounds: duplicate key (first at line 9)")),
    Case(
      name: "key outside a section", tool: .check, files: ["config.ini": text("lr = 0.1\n" + config)],
      expect: .error("peerctl check: $DIR/config.ini:1: lr: key outside any section; add a [SECTION] header above it")),
    Case(
      name: "missing section", tool: .check, files: config("[TRAIN_PARAMS]", "[TRAINING]"),
      expect: .error("peerctl check: $DIR/config.ini: [TRAIN_PARAMS] required section is missing")),
    Case(
      name: "10 KB line", tool: .check, files: config("rounds = 2", String(repeating: "x", count: 10_000)),
      expect: .error(
        "peerctl check: $DIR/config.ini:9: expected 'key = value', got '\(String(repeating: "x", count: 60))…'")),
    Case(
      name: "not UTF-8", tool: .check, files: ["config.ini": [0x5B, 0xFF, 0xFE, 0x5D]],
      expect: .error("peerctl check: $DIR/config.ini: the config file is not UTF-8 text")),
    Case(
      name: "config missing", tool: .check, files: ["config.ini": []], args: ["--config", "$DIR/none.ini"],
      expect: .error("peerctl check: $DIR/none.ini: cannot read the config file (missing or unreadable)")),
    Case(
      name: "CRLF config", tool: .check, files: ["config.ini": text(crlf)],
      expect: .output(
        "$DIR/config.ini: ok — Synthetic / LogisticRegression (610 parameters) / SGD lr 0.1 / dpsgd, 2 rounds of 2 steps — graph $DIR/graph.txt: 2 nodes"
      )),
    Case(
      name: "unknown key warning", tool: .check, files: config("rounds = 2", "rounds = 2\nfrobnicate = 3"),
      expect: .output("warning: $DIR/config.ini:10: unknown key 'frobnicate' in [TRAIN_PARAMS] (ignored)")),
  ]
}
