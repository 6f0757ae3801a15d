import Foundation
import XCTest

@testable import Config

final class INIParserTests: XCTestCase {
  func testConfigparserSyntax() throws {
    let doc = try INIDocument.parse(
      """
      # comment
      ; another
      [DATASET]
      Dataset_Class = MNIST   ; inline comment
      sizes =
      url = http://x#frag
      alpha_list = [0.1, 0.2]
      long = first
        second
      [SHARING]
      key: value
      """, path: "t.ini")
    XCTAssertEqual(doc.entry("DATASET", "dataset_class")?.value, "MNIST")
    XCTAssertEqual(doc.entry("DATASET", "sizes")?.value, "")
    XCTAssertEqual(doc.entry("DATASET", "url")?.value, "http://x#frag")
    XCTAssertEqual(doc.entry("DATASET", "long")?.value, "first\nsecond")
    XCTAssertEqual(doc.entry("SHARING", "key")?.value, "value")
    XCTAssertEqual(doc.entry("DATASET", "alpha_list")?.line, 7)
  }

  func testSyntaxErrorsNameFileAndLine() {
    func message(_ text: String) -> String {
      do {
        _ = try INIDocument.parse(text, path: "bad.ini")
        return "accepted"
      } catch { return "\(error)" }
    }
    XCTAssertEqual(message("key = 1"), "bad.ini:1: key: key outside any section; add a [SECTION] header above it")
    XCTAssertEqual(message("[A]\nx = 1\nx = 2"), "bad.ini:3: [A] x: duplicate key (first at line 2)")
    XCTAssertEqual(message("[A]\n[A]"), "bad.ini:2: section [A] repeated (first at line 1)")
    XCTAssertEqual(message("[A]\njust words"), "bad.ini:2: expected 'key = value', got 'just words'")
    XCTAssertTrue(message("[A\n").contains("malformed section header"))
  }
}

final class RunConfigurationTests: XCTestCase {
  static let decentralizepyStepConfig = """
    [DATASET]
    dataset_package = decentralizepy.datasets.MovieLens
    dataset_class = MovieLens
    model_class = MatrixFactorization
    train_dir = /mnt/nfs/shared/leaf/data/movielens
    test_dir = /mnt/nfs/shared/leaf/data/movielens
    ; python list format
    sizes =

    [OPTIMIZER_PARAMS]
    optimizer_package = torch.optim
    optimizer_class = SGD
    lr = 0.25

    [TRAIN_PARAMS]
    training_package = decentralizepy.training.Training
    training_class = Training
    rounds = 9
    full_epochs = False
    batch_size = 8
    shuffle = True
    loss_package = torch.nn
    loss_class = MSELoss

    [COMMUNICATION]
    comm_package = decentralizepy.communication.TCP
    comm_class = TCP
    addresses_filepath = /home/user/decentralizepy/ip_4Machines.json

    [SHARING]
    sharing_package = decentralizepy.sharing.RandomAlpha
    sharing_class = RandomAlpha
    alpha_list = [0.1, 0.2, 0.3, 0.4, 1.0]
    metadata_cap = 0.5
    accumulation = True
    accumulate_averaging_changes = True
    """

  func testDecentralizepyConfigLoadsUnchanged() throws {
    let c = try RunConfiguration(document: INIDocument.parse(Self.decentralizepyStepConfig, path: "movielens.ini"))
    XCTAssertEqual(c.dataset.datasetClass.className, "MovieLens")
    XCTAssertEqual(c.dataset.modelClass.className, "MatrixFactorization")
    XCTAssertNil(c.dataset.sizes)
    XCTAssertEqual(c.optimizer.optimizerClass.className, "SGD")
    XCTAssertEqual(c.optimizer.lr, 0.25)
    XCTAssertEqual(c.train.rounds, 9)
    XCTAssertEqual(c.train.batchSize, 8)
    XCTAssertEqual(c.train.lossClass.className, "MSELoss")
    XCTAssertEqual(c.communication.commClass, "TCP")
    XCTAssertEqual(c.sharing.sharingClass.className, "RandomAlpha")
    XCTAssertEqual(c.sharing.alphaList, [0.1, 0.2, 0.3, 0.4, 1.0])
    XCTAssertEqual(c.sharing.metadataCap, 0.5)
    XCTAssertTrue(c.sharing.accumulation)
    XCTAssertTrue(c.sharing.accumulateAveragingChanges)
    XCTAssertEqual(c.node.algorithm, "dpsgd")
    XCTAssertEqual(c.warnings, [])
  }

  func testPackageAloneResolvesToClassName() {
    XCTAssertEqual(
      ClassReference(package: "decentralizepy.sharing.PartialModel", className: nil)?.className, "PartialModel")
    XCTAssertNil(ClassReference(package: nil, className: nil))
  }

  func testWrongValuesAreErrorsAndUnknownKeysWarnings() throws {
    func load(_ text: String) throws -> RunConfiguration {
      try RunConfiguration(document: INIDocument.parse(text, path: "c.ini"))
    }
    let base =
      "[DATASET]\ndataset_class = MNIST\nmodel_class = LogisticRegression\n[OPTIMIZER_PARAMS]\nlr = 0.1\n[TRAIN_PARAMS]\n"
    XCTAssertEqual(try load(base).train.batchSize, 16)
    XCTAssertThrowsError(try load(base + "batch_size = sixteen")) { error in
      XCTAssertEqual("\(error)", "c.ini:7: [TRAIN_PARAMS] batch_size: expected a whole number, got 'sixteen'")
    }
    XCTAssertThrowsError(try load(base + "shuffle = maybe")) { error in
      XCTAssertTrue("\(error)".contains("expected True or False"))
    }
    XCTAssertThrowsError(try load(base.replacingOccurrences(of: "lr = 0.1", with: "lr = -1")))
    XCTAssertThrowsError(try load("[DATASET]\ndataset_class = MNIST\n")) { error in
      XCTAssertTrue("\(error)".contains("[OPTIMIZER_PARAMS]"))
    }
    let warned = try load(base + "frobnicate = 3\n[EXTRA]\n")
    XCTAssertEqual(warned.warnings.count, 2)
    XCTAssertTrue(warned.warnings.contains("c.ini:7: unknown key 'frobnicate' in [TRAIN_PARAMS] (ignored)"))
  }

  /// decentralizepy's [SHARING] sections for PartialModel and SubSampling load unchanged, and
  /// every peerd key is validated with the file, line and key in the message.
  func testSharingKeysAreReadAndValidated() throws {
    func load(_ sharing: String) throws -> SharingSection {
      let text =
        "[DATASET]\ndataset_class = MNIST\nmodel_class = LogisticRegression\n[OPTIMIZER_PARAMS]\nlr = 0.1\n"
        + "[TRAIN_PARAMS]\n[SHARING]\n" + sharing
      let c = try RunConfiguration(document: INIDocument.parse(text, path: "s.ini"))
      XCTAssertEqual(c.warnings, [])
      return c.sharing
    }
    let partial = try load(
      "sharing_package = decentralizepy.sharing.PartialModel\nsharing_class = PartialModel\nalpha = 0.1\n"
        + "accumulation = True\naccumulate_averaging_changes = False\nmetadata_cap = 0.6\ndict_ordered = True\n"
        + "save_shared = False\ncompress = True\ncompression_package = decentralizepy.compression.Elias\n"
        + "compression_class = Elias\n")
    XCTAssertEqual(partial.sharingClass.className, "PartialModel")
    XCTAssertEqual(partial.alpha, 0.1)
    XCTAssertTrue(partial.accumulation)
    XCTAssertFalse(partial.accumulateAveragingChanges)
    XCTAssertEqual(partial.metadataCap, 0.6)
    XCTAssertTrue(partial.compress)
    let sub = try load(
      "sharing_package = decentralizepy.sharing.SubSampling\nsharing_class = SubSampling\nalpha = 0.1\n")
    XCTAssertEqual(sub.sharingClass.className, "SubSampling")
    XCTAssertNil(sub.bits)
    XCTAssertEqual(sub.blockSize, 256)
    XCTAssertNil(sub.partialAveraging)
    let q = try load(
      "sharing_class = Quantize\nbits = 1\nblock_size = 128\nstep_size = 0.3\npartial_averaging = fill_local\n")
    XCTAssertEqual(q.bits, 1)
    XCTAssertEqual(q.blockSize, 128)
    XCTAssertEqual(q.stepSize, 0.3)
    XCTAssertEqual(q.partialAveraging, "fill_local")
    for (line, message) in [
      ("alpha = 0", "s.ini:8: [SHARING] alpha: must be a fraction in (0, 1], got 0.0"),
      ("alpha = 1.5", "s.ini:8: [SHARING] alpha: must be a fraction in (0, 1], got 1.5"),
      ("alpha_list = [0.1, 2]", "s.ini:8: [SHARING] alpha_list: every fraction must be in (0, 1], got 2.0"),
      ("alpha_list = []", "s.ini:8: [SHARING] alpha_list: must list at least one fraction, like [0.1, 0.2, 1.0]"),
      ("bits = 2", "s.ini:8: [SHARING] bits: must be 8, 4 or 1 (or 32 for unquantized CHOCO deltas), got 2"),
      ("block_size = 0", "s.ini:8: [SHARING] block_size: must be at least 1, got 0"),
      ("step_size = 0", "s.ini:8: [SHARING] step_size: must be in (0, 1], got 0.0"),
      ("metadata_cap = -1", "s.ini:8: [SHARING] metadata_cap: must be positive, got -1.0"),
      ("accumulation = sometimes", "s.ini:8: [SHARING] accumulation: expected True or False, got 'sometimes'"),
      (
        "partial_averaging = mean",
        "s.ini:8: [SHARING] partial_averaging: expected renormalize, fill_local or neighbour_mean, got 'mean'"
      ),
      (
        "layerwise = True",
        "s.ini:8: [SHARING] layerwise: per-layer SubSampling masks are not supported; one mask covers the whole model"
      ),
    ] {
      XCTAssertThrowsError(try load(line + "\n"), line) { XCTAssertEqual("\($0)", message) }
    }
  }

  func testShippedConfigsLoad() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("configs")
    let files = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".ini") }
    XCTAssertGreaterThanOrEqual(files.count, 3)
    for f in files {
      let c = try RunConfiguration.load(path: root.appendingPathComponent(f).path)
      XCTAssertEqual(c.warnings, [], f)
    }
  }
}
