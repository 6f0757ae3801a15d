import Foundation

/// Every node's `<uid>_results.json` of one run directory, decoded by the type peerd writes them
/// with (`NodeResults`), and the run's manifest when it has one.
///
/// The one reader behind `peerctl report` and `peerctl plot`: no key is spelt here, so the
/// readers cannot drift from the writer. A launcher's run directory has one folder per machine
/// (`machine0/`, …); a folder of results written by peerd processes started by hand is read the
/// same way.
public struct RunRecords: Sendable {
  public struct Node: Sendable {
    public var path: String
    public var results: NodeResults
  }

  public var directory: String
  /// Sorted by uid.
  public var nodes: [Node]
  public var manifest: RunManifest?

  public init(directory: String, nodes: [Node], manifest: RunManifest? = nil) {
    self.directory = directory
    self.nodes = nodes.sorted { $0.results.uid < $1.results.uid }
    self.manifest = manifest
  }

  /// Reads every `*_results.json` under `directory` (recursively; earlier attempts kept as
  /// `<uid>_results.prev<N>.json` are not read).
  public static func load(_ directory: String) throws -> RunRecords {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
      throw RecordError.noRun(directory, "no such directory")
    }
    var files: [String] = []
    if let walker = fm.enumerator(atPath: directory) {
      while let item = walker.nextObject() as? String {
        if item.hasSuffix("_results.json") { files.append((directory as NSString).appendingPathComponent(item)) }
      }
    }
    guard !files.isEmpty else {
      throw RecordError.noRun(
        directory, "no *_results.json files (not a peerd run directory, or no node has written yet)")
    }
    let decoder = resultsDecoder()
    var nodes: [Node] = []
    for file in files {
      guard let data = fm.contents(atPath: file) else { throw RecordError.unreadable(file, "cannot read it") }
      do {
        nodes.append(Node(path: file, results: try decoder.decode(NodeResults.self, from: data)))
      } catch {
        throw RecordError.unreadable(file, "not a peerd results file (\(error))")
      }
    }
    return RunRecords(directory: directory, nodes: nodes, manifest: try RunManifest.read(runDirectory: directory))
  }

  /// The decoder for results files (non-finite numbers are written as "nan", "inf", "-inf").
  public static func resultsDecoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return d
  }

  public var isRegression: Bool { nodes.contains { $0.results.isRegression } }
  /// Nodes that evaluate on a test set (FedAvg's clients do not).
  public var evaluating: [NodeResults] { nodes.map(\.results).filter { !$0.testLoss.isEmpty } }
  public var algorithm: String { nodes.first?.results.algorithm ?? "" }
  public var sharing: String { nodes.first?.results.sharing ?? "" }
}
