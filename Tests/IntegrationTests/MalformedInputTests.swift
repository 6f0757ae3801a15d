import Datasets
import Foundation
import XCTest

/// Issue 11's table: malformed configs, graph files, IP files, datasets, ratings files and
/// flags, each given to a real `peerd` or `peerctl check` process, which must exit with the
/// code and print exactly the line below (`$DIR` is the case's folder). Legal but odd inputs
/// exit 0 with a warning line.
final class MalformedInputTests: XCTestCase {
  enum Tool { case peerd, check, peerctl }

  enum Expect {
    /// Exit 2 with exactly this line on standard error and nothing else there.
    case error(String)
    /// Exit 0 with this line on standard output (a warning or the summary of `peerctl check`).
    case output(String)
    /// Exit 0 with a log line ending in this on standard error (peerd's warnings).
    case logged(String)
  }

  struct Case {
    var name: String
    var tool: Tool
    var files: [String: [UInt8]] = [:]
    var args: [String] = []
    var expect: Expect
  }

  static let config = """
    [DATASET]
    dataset_class = Synthetic
    model_class = LogisticRegression
    samples_per_node = 50
    [OPTIMIZER_PARAMS]
    optimizer_class = SGD
    lr = 0.1
    [TRAIN_PARAMS]
    rounds = 2
    batch_size = 16
    [COMMUNICATION]
    base_port = @PORT@
    [NODE]
    iterations = 2
    test_after = 1
    start_timeout = 5

    """

  static func text(_ s: String) -> [UInt8] { Array(s.utf8) }

  /// The base config with `line` replaced by `replacement` (which may hold several lines).
  static func config(_ line: String, _ replacement: String) -> [String: [UInt8]] {
    precondition(config.contains(line + "\n"), line)
    return ["config.ini": text(config.replacingOccurrences(of: line + "\n", with: replacement + "\n"))]
  }

  static func labels(_ values: [UInt8], count: Int? = nil) -> [UInt8] {
    let n = count ?? values.count
    return [0, 0, 8, 1] + (0..<4).map { UInt8(truncatingIfNeeded: n >> (24 - 8 * $0)) } + values
  }

  static func images(_ count: Int) -> [UInt8] {
    [0, 0, 8, 3, 0, 0, 0, UInt8(count), 0, 0, 0, 28, 0, 0, 0, 28] + [UInt8](repeating: 9, count: count * 784)
  }

  /// A valid tiny MNIST in `mnist/` (20 training and 10 test images), with `overrides`.
  static func mnist(_ overrides: [String: [UInt8]] = [:]) -> [String: [UInt8]] {
    var files = config(
      "dataset_class = Synthetic", "dataset_class = MNIST\ntrain_dir = $DIR/mnist\ncache_dir = $DIR/cache")
    files["mnist/train-images-idx3-ubyte"] = images(20)
    files["mnist/train-labels-idx1-ubyte"] = labels((0..<20).map { UInt8($0 % 10) })
    files["mnist/t10k-images-idx3-ubyte"] = images(10)
    files["mnist/t10k-labels-idx1-ubyte"] = labels((0..<10).map { UInt8($0) })
    for (k, v) in overrides { files["mnist/" + k] = v }
    return files
  }

  static func ratings(_ csv: String) -> [String: [UInt8]] {
    var files = config(
      "dataset_class = Synthetic\nmodel_class = LogisticRegression",
      "dataset_class = MovieLens\nmodel_class = MatrixFactorization\ntrain_dir = $DIR/ml\ncache_dir = $DIR/cache")
    files["config.ini"] = text(
      String(decoding: files["config.ini"]!, as: UTF8.self).replacingOccurrences(
        of: "batch_size = 16", with: "batch_size = 16\nloss_class = MSELoss"))
    files["ml/ratings.csv"] = text(csv)
    return files
  }

  static func leaf(_ json: String) -> [String: [UInt8]] {
    var files = config(
      "dataset_class = Synthetic\nmodel_class = LogisticRegression",
      "dataset_class = Femnist\nmodel_class = LogisticRegression\ntrain_dir = $DIR/leaf/train\ntest_dir = $DIR/leaf/test"
    )
    files["leaf/train/a.json"] = text(json)
    files["leaf/test/a.json"] = text(goodLEAF)
    // One node owns every user, so the first bad user in file order is the one named.
    files["graph.txt"] = text("1\n")
    return files
  }

  static let femnistSample = "[" + [String](repeating: "0.5", count: 784).joined(separator: ",") + "]"
  static let goodLEAF =
    #"{"users": ["u1", "u2"], "num_samples": [1, 1], "user_data": {"u1": {"x": [\#(femnistSample)], "y": [3]}, "u2": {"x": [\#(femnistSample)], "y": [4]}}}"#
  static let goodRatings = "userId,movieId,rating,timestamp\n1,1,4.0,1\n1,2,3.0,1\n2,1,5.0,1\n2,3,2.5,1\n"
  static let crlf = config.replacingOccurrences(of: "\n", with: "\r\n")

  static var cases: [Case] { configCases + fileCases + flagCases }

  func testEveryMalformedInputGetsItsExitCodeAndExactLine() throws {
    let peerd = try ClusterHarness.binary("peerd")
    let peerctl = try ClusterHarness.binary("peerctl")
    XCTAssertGreaterThanOrEqual(Self.cases.count, 40)
    let port = 30000 + Int.random(in: 0..<300) * 100
    for c in Self.cases {
      let dir = NSTemporaryDirectory() + "peerd-malformed-\(UUID().uuidString)"
      var files: [String: [UInt8]] = [
        "config.ini": Self.text(Self.config), "graph.txt": Self.text("2\n0 1\n"),
        "ip.json": Self.text("{\"0\": \"127.0.0.1\"}"),
      ]
      for (k, v) in c.files { files[k] = v }
      for (name, bytes) in files {
        let path = (dir + "/" + name as NSString).standardizingPath
        try FileManager.default.createDirectory(
          atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let content =
          name == "config.ini" && String(validating: bytes, as: UTF8.self) != nil
          ? Array(
            String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "@PORT@", with: "\(port)")
              .replacingOccurrences(of: "$DIR", with: dir).utf8) : bytes
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(content)))
      }
      let standard = ["--config", dir + "/config.ini", "--graph", dir + "/graph.txt", "--ip", dir + "/ip.json"]
      let extra = c.args.map { $0.replacingOccurrences(of: "$DIR", with: dir) }
      let (binary, args): (String, [String])
      switch c.tool {
      case .peerd:
        let uid = extra.contains("--uid") ? [] : ["--uid", "0"]
        (binary, args) = (peerd, standard + uid + ["--log-dir", dir + "/logs"] + extra)
      case .check: (binary, args) = (peerctl, ["check"] + standard + extra)
      case .peerctl: (binary, args) = (peerctl, extra)
      }
      let result = try Self.run(binary, args)
      let stderr = result.stderr
      switch c.expect {
      case .error(let line):
        let expected = line.replacingOccurrences(of: "$DIR", with: dir)
        XCTAssertEqual(result.status, 2, "\(c.name): exit code; stderr: \(stderr)")
        XCTAssertEqual(stderr, expected + "\n", "\(c.name)")
      case .output(let line):
        let expected = line.replacingOccurrences(of: "$DIR", with: dir)
        XCTAssertEqual(result.status, 0, "\(c.name): exit code; stderr: \(stderr)")
        XCTAssertTrue(result.stdout.split(separator: "\n").contains { $0 == expected }, "\(c.name): \(result.stdout)")
        XCTAssertEqual(stderr, "", c.name)
      case .logged(let ending):
        let expected = ending.replacingOccurrences(of: "$DIR", with: dir)
        XCTAssertEqual(result.status, 0, "\(c.name): exit code; stderr: \(stderr)")
        XCTAssertTrue(stderr.split(separator: "\n").contains { $0.hasSuffix(expected) }, "\(c.name): \(stderr)")
      }
      try? FileManager.default.removeItem(atPath: dir)
    }
  }

  /// Runs a command to completion with its own standard output and error (files, so that
  /// neither pipe can fill and block it).
  static func run(_ path: String, _ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let base = NSTemporaryDirectory() + "peerd-malformed-out-\(UUID().uuidString)"
    for s in [".out", ".err"] { _ = FileManager.default.createFile(atPath: base + s, contents: nil) }
    defer { for s in [".out", ".err"] { try? FileManager.default.removeItem(atPath: base + s) } }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["OPENBLAS_NUM_THREADS"] = "1"
    p.environment = env
    p.standardOutput = FileHandle(forWritingAtPath: base + ".out")
    p.standardError = FileHandle(forWritingAtPath: base + ".err")
    try p.run()
    p.waitUntilExit()
    func read(_ s: String) -> String { (try? String(contentsOfFile: base + s, encoding: .utf8)) ?? "" }
    return (p.terminationStatus, read(".out"), read(".err"))
  }
}
