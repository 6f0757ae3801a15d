import Foundation
import XCTest

@testable import Config

/// The ranges and bounds of issue 11: every out-of-range value is an error naming file, line,
/// section and key, with its `kind`, and legal-but-foreign line endings load.
final class ConfigValidationTests: XCTestCase {
  static let base = """
    [DATASET]
    dataset_class = Synthetic
    model_class = MLP
    [OPTIMIZER_PARAMS]
    lr = 0.1
    [TRAIN_PARAMS]
    rounds = 2
    [NODE]
    iterations = 3

    """

  func load(_ text: String) throws -> RunConfiguration {
    try RunConfiguration(document: INIDocument.parse(text, path: "c.ini"))
  }

  /// The error `extra`, added under its section of `base`, gives.
  func error(_ section: String, _ extra: String) -> ConfigError? {
    let text = Self.base.replacingOccurrences(of: "[\(section)]\n", with: "[\(section)]\n\(extra)\n")
    do {
      _ = try load(text)
      return nil
    } catch { return error as? ConfigError }
  }

  func testOptimizerParametersOutsideTheirRangesAreErrors() {
    let cases: [(String, String)] = [
      ("momentum = -3", "c.ini:5: [OPTIMIZER_PARAMS] momentum: must be in [0, 1), got -3"),
      ("momentum = 1", "c.ini:5: [OPTIMIZER_PARAMS] momentum: must be in [0, 1), got 1"),
      ("dampening = 1.5", "c.ini:5: [OPTIMIZER_PARAMS] dampening: must be in [0, 1], got 1.5"),
      (
        "weight_decay = -0.01",
        "c.ini:5: [OPTIMIZER_PARAMS] weight_decay: must be ≥ 0 and within float32 range (1e-38 to 3e38), got -0.01"
      ),
      ("eps = 0", "c.ini:5: [OPTIMIZER_PARAMS] eps: must be positive and within float32 range (1e-38 to 3e38), got 0"),
      (
        "eps = 1e-60",
        "c.ini:5: [OPTIMIZER_PARAMS] eps: must be positive and within float32 range (1e-38 to 3e38), got 1e-60"
      ),
      ("betas = (0.9, 1.5)", "c.ini:5: [OPTIMIZER_PARAMS] betas: each must be in [0, 1), got (0.9, 1.5)"),
      ("betas = (0.9)", "c.ini:5: [OPTIMIZER_PARAMS] betas: expected two numbers like (0.9, 0.999)"),
      (
        "nesterov = True",
        "c.ini:5: [OPTIMIZER_PARAMS] nesterov: Nesterov momentum needs momentum > 0 and dampening = 0"
      ),
      ("momentum = nan", "c.ini:5: [OPTIMIZER_PARAMS] momentum: expected a number, got 'nan'"),
    ]
    for (line, message) in cases {
      let e = error("OPTIMIZER_PARAMS", line)
      XCTAssertEqual(e.map { "\($0)" }, message, line)
    }
    XCTAssertEqual(error("OPTIMIZER_PARAMS", "momentum = -3")?.kind, .outOfRange)
    XCTAssertEqual(error("OPTIMIZER_PARAMS", "momentum = -3")?.key, "momentum")
    XCTAssertEqual(error("OPTIMIZER_PARAMS", "momentum = 0.9\nnesterov = True").map { "\($0)" }, nil)
    for lr in ["0", "-1", "1e39"] {
      let e = try? XCTUnwrap(
        { () -> ConfigError? in
          do {
            _ = try load(Self.base.replacingOccurrences(of: "lr = 0.1", with: "lr = \(lr)"))
            return nil
          } catch { return error as? ConfigError }
        }())
      XCTAssertEqual(e?.key, "lr", lr)
      XCTAssertEqual(e?.kind, .outOfRange, lr)
    }
  }

  func testSizesAndCountsAreBoundedAndTheBoundIsStated() {
    let cases: [(String, String, String?)] = [
      (
        "TRAIN_PARAMS", "batch_size = 9223372036854775807",
        "c.ini:7: [TRAIN_PARAMS] batch_size: must be between 1 and 1000000, got 9223372036854775807"
      ),
      (
        "TRAIN_PARAMS", "batch_size = 99999999999999999999999",
        "c.ini:7: [TRAIN_PARAMS] batch_size: must be between 1 and 1000000, got 99999999999999999999999"
      ),
      ("TRAIN_PARAMS", "batch_size = 0", "c.ini:7: [TRAIN_PARAMS] batch_size: must be between 1 and 1000000, got 0"),
      (
        "TRAIN_PARAMS",
        "full_epochs = True\nbatch_size = 16\nshuffle = True\nloss_class = CrossEntropyLoss\nrounds_ = 1", nil
      ),
      ("NODE", "eval_batch_size = -5", "c.ini:9: [NODE] eval_batch_size: must be between 1 and 1000000, got -5"),
      ("NODE", "test_after = 100000001", "c.ini:9: [NODE] test_after: must be between 0 and 100000000, got 100000001"),
      ("DATASET", "embedding_dim = 0", "c.ini:2: [DATASET] embedding_dim: must be between 1 and 10000, got 0"),
      ("DATASET", "samples_per_node = 0", "c.ini:2: [DATASET] samples_per_node: must be between 1 and 100000, got 0"),
      ("DATASET", "test_samples = -1", "c.ini:2: [DATASET] test_samples: must be between 1 and 1000000, got -1"),
      ("DATASET", "shards = 10000000", "c.ini:2: [DATASET] shards: must be between 1 and 1000000, got 10000000"),
      (
        "DATASET", "hidden_sizes = [0]",
        "c.ini:2: [DATASET] hidden_sizes: each width must be between 1 and 100000, got 0"
      ),
      (
        "DATASET", "hidden_sizes = [200, -5]",
        "c.ini:2: [DATASET] hidden_sizes: each width must be between 1 and 100000, got -5"
      ),
      (
        "DATASET", "hidden_sizes = []",
        "c.ini:2: [DATASET] hidden_sizes: give at least one hidden width, like [200, 200]"
      ),
      ("DATASET", "hidden_sizes = [1.5]", "c.ini:2: [DATASET] hidden_sizes: expected whole numbers, got 1.5"),
      ("DATASET", "synthetic_alpha = -1", "c.ini:2: [DATASET] synthetic_alpha: must be a variance ≥ 0, got -1"),
      (
        "NODE", "log_level = loud",
        "c.ini:9: [NODE] log_level: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'"
      ),
    ]
    for (section, line, message) in cases {
      XCTAssertEqual(error(section, line).map { "\($0)" }, message, line)
    }
    XCTAssertThrowsError(try load(Self.base.replacingOccurrences(of: "rounds = 2", with: "rounds = 1000001"))) {
      XCTAssertEqual("\($0)", "c.ini:7: [TRAIN_PARAMS] rounds: must be between 1 and 1000000, got 1000001")
    }
    XCTAssertEqual(error("TRAIN_PARAMS", "batch_size = 9223372036854775807")?.kind, .outOfRange)
    XCTAssertNil(error("NODE", "log_level = WARNING"), "levels match without regard to case")
    XCTAssertNil(error("DATASET", "samples_per_node ="), "a blank value means not set")
  }

  func testCRLFAndCRLineEndingsAndAByteOrderMarkLoad() throws {
    let lf = try load(Self.base)
    for text in [
      Self.base.replacingOccurrences(of: "\n", with: "\r\n"), Self.base.replacingOccurrences(of: "\n", with: "\r"),
      "\u{FEFF}" + Self.base.replacingOccurrences(of: "\n", with: "\r\n"),
    ] {
      let c = try load(text)
      XCTAssertEqual(c.dataset.modelClass, lf.dataset.modelClass)
      XCTAssertEqual(c.node.iterations, 3)
      XCTAssertEqual(c.document.entry("NODE", "iterations")?.line, 9)
      XCTAssertEqual(c.warnings, [])
    }
    XCTAssertThrowsError(try load(Self.base.replacingOccurrences(of: "\n", with: "\r\n") + "bogus line\r\n")) {
      XCTAssertEqual("\($0)", "c.ini:10: expected 'key = value', got 'bogus line'")
    }
  }

  /// Found by the fuzz harness: a continued value holds a line break, which the message
  /// quoted as is, splitting it over two lines.
  func testAContinuedValueIsQuotedOnOneLine() {
    XCTAssertEqual(
      error("OPTIMIZER_PARAMS", "momentum = 0.2\n  5").map { "\($0)" },
      "c.ini:5: [OPTIMIZER_PARAMS] momentum: expected a number, got '0.2⏎5'")
  }

  /// Found by libFuzzer: a bool quoted as written, with the NUL bytes and line breaks of a
  /// damaged file in it.
  func testControlCharactersAreNotQuotedRaw() {
    XCTAssertEqual(
      error("OPTIMIZER_PARAMS", "nesterov = T\u{0}\u{1}x\n  rue").map { "\($0)" },
      "c.ini:5: [OPTIMIZER_PARAMS] nesterov: expected True or False, got 'T??x⏎rue'")
    // Found by the mutation loop: a repeated section's name, quoted raw.
    XCTAssertThrowsError(try INIDocument.parse("[A\u{0}B]\n[A\u{0}B]\n", path: "c.ini")) {
      XCTAssertEqual("\($0)", "c.ini:2: section [A?B] repeated (first at line 1)")
    }
  }

  func testLongLinesAreQuotedShort() {
    let junk = String(repeating: "x", count: 10_000)
    XCTAssertThrowsError(try INIDocument.parse("[A]\n\(junk)", path: "c.ini")) {
      XCTAssertEqual("\($0)", "c.ini:2: expected 'key = value', got '\(String(repeating: "x", count: 60))…'")
      XCTAssertEqual(($0 as? ConfigError)?.kind, .syntax)
    }
    XCTAssertThrowsError(try INIDocument.parse("[\(junk)", path: "c.ini")) {
      XCTAssertLessThan("\($0)".count, 120)
    }
  }

  /// Timeouts have a floor (below a heartbeat round trip every peer would be marked down) and a
  /// ceiling; a list of RandomAlpha fractions has a length bound.
  func testTimeoutsAndAlphaListsAreBounded() throws {
    let cases: [(String, String)] = [
      ("peer_timeout = 0.01", "c.ini:9: [NODE] peer_timeout: must be seconds in [0.1, 3600], got 0.01"),
      ("peer_timeout = 7200", "c.ini:9: [NODE] peer_timeout: must be seconds in [0.1, 3600], got 7200"),
      ("start_timeout = 0", "c.ini:9: [NODE] start_timeout: must be seconds in [0.1, 86400], got 0"),
    ]
    for (line, message) in cases {
      let e = error("NODE", line)
      XCTAssertEqual(e.map { "\($0)" }, message, line)
      XCTAssertEqual(e?.kind, .outOfRange, line)
    }
    XCTAssertNil(error("NODE", "peer_timeout = 0.1\nstart_timeout = 86400"))
    let long = "[" + Array(repeating: "0.5", count: 1001).joined(separator: ", ") + "]"
    let text = Self.base + "[SHARING]\nsharing_class = RandomAlpha\nalpha_list = \(long)\n"
    XCTAssertThrowsError(try load(text)) { e in
      XCTAssertEqual((e as? ConfigError)?.kind, .outOfRange)
      XCTAssertEqual(
        (e as? ConfigError)?.message, "at most 1000 fractions, got 1001")
    }
  }
}
