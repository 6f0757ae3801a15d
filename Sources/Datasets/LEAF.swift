import Foundation
import Numerics

/// LEAF's JSON format (FEMNIST, CelebA): each `.json` file of a folder holds
/// `{"users": [...], "num_samples": [...], "user_data": {user: {"x": [...], "y": [...]}}}`.
///
/// Users are the unit of data ownership: the users of all training files (files in name order,
/// users in file order) are shuffled with the dataset seed and dealt round-robin to nodes, so
/// every node computes the same assignment. A node keeps only its own users' samples. The global
/// test set is every user's test data. Every field is validated: types, counts against
/// `num_samples`, sample sizes, value ranges.
enum LEAFReader {
  enum Kind {
    /// 28×28 floats in [0, 1] per sample, labels 0…61.
    case femnist
    /// Image file names under `imagesDir`, labels 0…1; decoded and resized to 84×84 RGB.
    case celeba(imagesDir: String)
  }

  struct UserSamples {
    var user: String
    var x: [Any]
    var y: [Int32]
  }

  static func files(_ dir: String) throws -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
      throw DatasetError.missing("LEAF folder", path: dir)
    }
    let json = names.filter { $0.hasSuffix(".json") }.sorted().map { (dir as NSString).appendingPathComponent($0) }
    guard !json.isEmpty else { throw DatasetError.missing("LEAF .json files", path: dir) }
    return json
  }

  /// Users of a file with their samples, validated; `keep` filters users before their samples are checked.
  static func read(_ path: String, classes: Int, kind: Kind, keep: (String) -> Bool) throws -> [UserSamples] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DatasetError.missing("LEAF file", path: path)
    }
    return try parse(data, path: path, classes: classes, keep: keep)
  }

  /// The users of one LEAF file's bytes with their samples, validated; `path` names it in errors.
  static func parse(_ data: Data, path: String, classes: Int, keep: (String) -> Bool) throws -> [UserSamples] {
    let root: Any
    do { root = try JSONSerialization.jsonObject(with: data) } catch {
      throw DatasetError("\(path): not valid JSON (\(jsonProblem(error)))")
    }
    guard let object = root as? [String: Any], let users = object["users"] as? [String],
      let counts = object["num_samples"] as? [Int], let userData = object["user_data"] as? [String: Any]
    else {
      throw DatasetError("\(path): expected LEAF JSON with 'users' (strings), 'num_samples' (integers) and 'user_data'")
    }
    guard users.count == counts.count else {
      throw DatasetError("\(path): \(users.count) users but \(counts.count) num_samples entries")
    }
    var out: [UserSamples] = []
    for (user, count) in zip(users, counts) where keep(user) {
      guard let entry = userData[user] as? [String: Any], let x = entry["x"] as? [Any], let yRaw = entry["y"] as? [Any]
      else {
        throw DatasetError("\(path): user \(MessageText.quote(user)) has no user_data with 'x' and 'y' lists")
      }
      guard x.count == count, yRaw.count == count else {
        throw DatasetError(
          "\(path): user \(MessageText.quote(user)) has \(x.count) x and \(yRaw.count) y, num_samples says \(count)")
      }
      let y: [Int32] = try yRaw.enumerated().map { i, v in
        // Compare as a double first: `intValue` of 1e300 is not a number of classes.
        guard let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded(), n.doubleValue >= 0,
          n.doubleValue < Double(classes)
        else {
          throw DatasetError(
            "\(path): user \(MessageText.quote(user)) sample \(i) has label \(MessageText.quote("\(v)")); expected 0…\(classes - 1)"
          )
        }
        return Int32(n.intValue)
      }
      out.append(UserSamples(user: user, x: x, y: y))
    }
    return out
  }

  /// Foundation's reason for rejecting a JSON file (position included), without its error domain.
  static func jsonProblem(_ error: Error) -> String {
    MessageText.plain(((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "truncated?")
  }

  /// All users of the training files, in the deterministic order used for dealing.
  static func users(_ files: [String]) throws -> [String] {
    var all: [String] = []
    for path in files {
      guard let data = FileManager.default.contents(atPath: path),
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
        let users = object["users"] as? [String]
      else { throw DatasetError("\(path): expected LEAF JSON with a 'users' list (truncated?)") }
      all += users
    }
    return all
  }

  /// Converts samples to a source: FEMNIST → floats, CelebA → decoded UInt8 images.
  static func source(_ samples: [UserSamples], kind: Kind, path: String) throws -> any SampleSource {
    let labels = samples.flatMap(\.y)
    switch kind {
    case .femnist:
      // Every sample's shape is checked before the feature array is sized: reserving
      // 784 floats per label first let a file of one-byte samples ("x": [0, 0, …]) allocate
      // 1,568 bytes per input byte (found by the fuzz harness).
      for s in samples {
        for (i, item) in s.x.enumerated() {
          guard let pixels = item as? [Any], pixels.count == 784 else {
            throw DatasetError("\(path): user \(MessageText.quote(s.user)) sample \(i) is not 784 pixel values")
          }
        }
      }
      var features: [Float] = []
      features.reserveCapacity(labels.count * 784)
      for s in samples {
        for (i, item) in s.x.enumerated() {
          for p in item as! [Any] {
            guard let v = (p as? NSNumber)?.floatValue, v.isFinite, v >= 0, v <= 1 else {
              throw DatasetError(
                "\(path): user \(MessageText.quote(s.user)) sample \(i) has pixel \(MessageText.quote("\(p)")); expected a number in [0, 1]"
              )
            }
            features.append(v)
          }
        }
      }
      return DenseSource(features: features, labels: labels, inputShape: [1, 28, 28], classCount: 62)
    case .celeba(let imagesDir):
      // As for FEMNIST: every name is checked before 21,168 bytes per sample are reserved.
      for s in samples {
        for (i, item) in s.x.enumerated() {
          guard let name = item as? String, !name.isEmpty, !name.contains("..") else {
            throw DatasetError("\(path): user \(MessageText.quote(s.user)) sample \(i) is not an image file name")
          }
        }
      }
      var pixels: [UInt8] = []
      pixels.reserveCapacity(labels.count * 3 * 84 * 84)
      for s in samples {
        for item in s.x {
          let name = item as! String
          let file = (imagesDir as NSString).appendingPathComponent(name)
          guard let data = FileManager.default.contents(atPath: file) else {
            throw DatasetError.missing("CelebA image", path: file)
          }
          pixels += try JPEG.decodeRGB([UInt8](data), size: 84, path: file)
        }
      }
      return ByteImageSource(
        mapped: nil, owned: pixels, recordStride: 3 * 84 * 84, labels: labels, shape: [3, 84, 84], classCount: 2,
        mean: [0, 0, 0], std: [1, 1, 1])
    }
  }

  /// Node `node`'s training users' samples and the global test set.
  static func load(
    trainDir: String, testDir: String, kind: Kind, classes: Int, node: Int, nodes: Int, streams: RandomStreams
  )
    throws -> (train: any SampleSource, test: any SampleSource, users: Int, total: Int)
  {
    let trainFiles = try files(trainDir)
    var order = try users(trainFiles)
    guard nodes <= order.count else {
      throw DatasetError(
        "\(trainDir): \(order.count) LEAF users cannot give each of \(nodes) nodes at least one", kind: .badSettings)
    }
    var rng = streams.stream(.dataSplit)
    rng.shuffle(&order)
    let mine = Set(order.enumerated().filter { $0.offset % nodes == node }.map(\.element))
    var trainSamples: [UserSamples] = []
    var total = 0
    for f in trainFiles {
      let samples = try read(f, classes: classes, kind: kind, keep: { mine.contains($0) })
      trainSamples += samples
      total += samples.reduce(0) { $0 + $1.y.count }
    }
    guard total > 0 else {
      throw DatasetError(
        "\(trainDir): node \(node)'s \(mine.count) LEAF user(s) have no training samples", kind: .emptyShard)
    }
    var testSamples: [UserSamples] = []
    for f in try files(testDir) { testSamples += try read(f, classes: classes, kind: kind, keep: { _ in true }) }
    return (
      try source(trainSamples, kind: kind, path: trainDir), try source(testSamples, kind: kind, path: testDir),
      order.count, total
    )
  }
}
