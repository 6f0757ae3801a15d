import Foundation
import Numerics

/// A graph file that could not be read, with the file and line.
public struct GraphFileError: Error, CustomStringConvertible, Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    /// Missing, unreadable or not UTF-8.
    case unreadable
    /// No node count on the first data line.
    case empty
    /// The first data line is not one positive integer.
    case badNodeCount
    /// The node count is above `Graph.maximumNodeCount`.
    case tooManyNodes
    /// A field that is not an integer.
    case notANumber
    /// A node index outside 0..<n.
    case nodeOutOfRange
    case selfLoop
    /// An edge-list line without exactly two fields.
    case notAnEdge
    /// More adjacency lines than nodes.
    case tooManyLines
    /// `--graph-type` names no format.
    case unknownFormat
  }

  public var kind: Kind
  public var path: String
  public var line: Int?
  public var message: String

  public init(_ kind: Kind, path: String, line: Int?, message: String) {
    self.kind = kind
    self.path = path
    self.line = line
    self.message = message
  }

  public var description: String { "\(path)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

/// Something legal but probably unintended in a graph file: the run goes on, and peerd and
/// `peerctl check` / `graph-info` say it once.
public struct GraphFileWarning: Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// Edge list: `a b` (or `b a`) given again. It is counted once.
    case duplicateEdge(Int, Int, firstLine: Int)
    /// Adjacency list: a line names the same neighbour twice. It is counted once.
    case repeatedNeighbour(Int, Int)
    /// Duplicates beyond the first few, which are not listed one by one.
    case moreDuplicates(Int)
    /// Not every node can reach node 0: models never mix between the components.
    case disconnected(components: Int, unreachable: Int)
  }

  public var kind: Kind
  public var path: String
  public var line: Int?

  public var description: String {
    let place = "\(path)\(line.map { ":\($0)" } ?? "")"
    switch kind {
    case .duplicateEdge(let a, let b, let first):
      return "\(place): duplicate edge \(a) \(b) (first at line \(first)); counted once"
    case .repeatedNeighbour(let node, let neighbour):
      return "\(place): node \(node) lists neighbour \(neighbour) twice; counted once"
    case .moreDuplicates(let n): return "\(place): \(n) more duplicate edges; each counted once"
    case .disconnected(let components, let unreachable):
      return
        "\(place): the graph is not connected (\(components) components; node \(unreachable) cannot reach node 0), so models never mix between them"
    }
  }
}

/// decentralizepy's two graph file formats.
///
/// - `edges`: the first line is the node count, then one `a b` edge per line.
/// - `adjacency`: the first line is the node count, then line i+1 lists node i's neighbours,
///   separated by spaces.
/// Both are undirected: `a b` also makes b a neighbour of a. Blank lines and `#` comments are
/// skipped; lines end in LF, CRLF or CR.
public enum GraphFormat: String, Sendable, CaseIterable {
  case edges, adjacency, auto
}

/// A graph read from a file, with what was odd about it.
public struct GraphFile: Sendable {
  public var graph: Graph
  public var warnings: [GraphFileWarning]

  /// Duplicate edges listed one by one before the rest are summed up in one warning.
  static let listedDuplicates = 5

  public static func read(path: String, format: GraphFormat = .auto) throws(GraphFileError) -> GraphFile {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw GraphFileError(
        .unreadable, path: path, line: nil, message: "cannot read the graph file (missing or unreadable)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw GraphFileError(.unreadable, path: path, line: nil, message: "not UTF-8 text")
    }
    return try parse(text, path: path, format: format)
  }

  /// `text` with at most 40 characters of it, quoted: a message quotes one token, never a line
  /// or the file.
  static func quote(_ token: some StringProtocol) -> String { MessageText.quote(token) }

  public static func parse(_ text: String, path: String = "<graph>", format: GraphFormat = .auto) throws(GraphFileError)
    -> GraphFile
  {
    var body = Substring(text)
    if body.first == "\u{FEFF}" { body = body.dropFirst() }
    var lines: [(number: Int, fields: [Substring])] = []
    let rawLines = body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    for (i, raw) in rawLines.enumerated() {
      var line = raw
      if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
      lines.append((i + 1, line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })))
    }
    guard let header = lines.first(where: { !$0.fields.isEmpty }) else {
      throw GraphFileError(
        .empty, path: path, line: nil, message: "empty graph file; expected the node count on the first line")
    }
    guard header.fields.count == 1 else {
      throw GraphFileError(
        .badNodeCount, path: path, line: header.number,
        message: "expected the node count alone on the first line, got \(header.fields.count) fields")
    }
    let countField = header.fields[0]
    // "+553597261" parses as an Int too (libFuzzer found that one); too large to parse at all
    // is as much too many.
    let digits = countField.hasPrefix("+") ? countField.dropFirst() : countField[...]
    let tooLargeForInt = Int(countField) == nil && !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    if tooLargeForInt || (Int(countField).map { $0 > Graph.maximumNodeCount } ?? false) {
      throw GraphFileError(
        .tooManyNodes, path: path, line: header.number,
        message:
          "node count \(quote(countField)) is above the maximum of \(Graph.maximumNodeCount) (each node needs its own TCP port)"
      )
    }
    guard let n = Int(countField), n > 0 else {
      throw GraphFileError(
        .badNodeCount, path: path, line: header.number,
        message: "expected the node count (a positive integer), got \(quote(countField))")
    }
    let bodyLines = lines.filter { $0.number > header.number }
    var resolved = format
    if format == .auto {
      let dataLines = bodyLines.filter { !$0.fields.isEmpty }
      let allPairs = dataLines.allSatisfy { $0.fields.count == 2 }
      // Ambiguous (n lines of 2): an adjacency list of a 2-regular graph lists each node's
      // neighbours on its own line; an edge list of n edges does not need to. Prefer edges
      // unless line i contains i's neighbours consistently.
      resolved = allPairs && (dataLines.count != n || !looksLikeAdjacency(bodyLines, n: n)) ? .edges : .adjacency
    }
    func number(_ s: Substring, _ line: Int) throws(GraphFileError) -> Int {
      guard let v = Int(s) else {
        throw GraphFileError(.notANumber, path: path, line: line, message: "expected a node index, got \(quote(s))")
      }
      guard v >= 0 && v < n else {
        throw GraphFileError(.nodeOutOfRange, path: path, line: line, message: "node \(v) out of range 0..<\(n)")
      }
      return v
    }
    var graph = Graph(nodeCount: n)
    var warnings: [GraphFileWarning] = []
    var duplicates = 0
    func duplicate(_ kind: GraphFileWarning.Kind, line: Int) {
      duplicates += 1
      if duplicates <= listedDuplicates { warnings.append(GraphFileWarning(kind: kind, path: path, line: line)) }
    }
    switch resolved {
    case .edges, .auto:
      /// Line of each edge's first appearance, by (smaller, larger) endpoint.
      var firstLine: [Int64: Int] = [:]
      for l in bodyLines where !l.fields.isEmpty {
        guard l.fields.count == 2 else {
          throw GraphFileError(
            .notAnEdge, path: path, line: l.number, message: "expected an edge 'a b', got \(l.fields.count) fields")
        }
        let a = try number(l.fields[0], l.number)
        let b = try number(l.fields[1], l.number)
        guard a != b else {
          throw GraphFileError(.selfLoop, path: path, line: l.number, message: "self-loop on node \(a)")
        }
        let key = Int64(min(a, b)) << 32 | Int64(max(a, b))
        if let first = firstLine[key] {
          duplicate(.duplicateEdge(min(a, b), max(a, b), firstLine: first), line: l.number)
        } else {
          firstLine[key] = l.number
          graph.addEdge(a, b)
        }
      }
    case .adjacency:
      var node = 0
      for l in bodyLines {
        if node >= n {
          if l.fields.isEmpty { continue }
          throw GraphFileError(
            .tooManyLines, path: path, line: l.number, message: "more adjacency lines than the \(n) nodes declared")
        }
        var listed = Set<Int>()
        for f in l.fields {
          let b = try number(f, l.number)
          guard b != node else {
            throw GraphFileError(.selfLoop, path: path, line: l.number, message: "self-loop on node \(node)")
          }
          // Each edge appears twice in an adjacency list (once per endpoint); only a neighbour
          // repeated on one line is a duplicate.
          if listed.insert(b).inserted {
            graph.addEdge(node, b)
          } else {
            duplicate(.repeatedNeighbour(node, b), line: l.number)
          }
        }
        node += 1
      }
    }
    if duplicates > listedDuplicates {
      warnings.append(
        GraphFileWarning(kind: .moreDuplicates(duplicates - listedDuplicates), path: path, line: nil))
    }
    let connectivity = graph.connectivity
    if let unreachable = connectivity.firstUnreachable {
      warnings.append(
        GraphFileWarning(
          kind: .disconnected(components: connectivity.components, unreachable: unreachable), path: path, line: nil))
    }
    return GraphFile(graph: graph, warnings: warnings)
  }

  private static func looksLikeAdjacency(_ body: [(number: Int, fields: [Substring])], n: Int) -> Bool {
    let rows = body.prefix(n).map { $0.fields.compactMap { Int($0) } }
    guard rows.count == n else { return false }
    for (i, row) in rows.enumerated() {
      for j in row where j >= 0 && j < n {
        if !rows[j].contains(i) { return false }
      }
    }
    return true
  }
}

extension Graph {
  /// Reads a graph file (`GraphFile.read` without the warnings). With `.auto`, a file whose
  /// data lines all hold exactly two numbers is an edge list; otherwise it is an adjacency list.
  public static func read(path: String, format: GraphFormat = .auto) throws(GraphFileError) -> Graph {
    try GraphFile.read(path: path, format: format).graph
  }

  public static func parse(_ text: String, path: String = "<graph>", format: GraphFormat = .auto)
    throws(GraphFileError) -> Graph
  {
    try GraphFile.parse(text, path: path, format: format).graph
  }

  /// The file text in `format` (`.auto` writes an edge list).
  public func serialized(format: GraphFormat = .edges) -> String {
    var out = "\(nodeCount)\n"
    switch format {
    case .edges, .auto:
      for (a, b) in edges { out += "\(a) \(b)\n" }
    case .adjacency:
      for v in 0..<nodeCount { out += neighbours(of: v).map(String.init).joined(separator: " ") + "\n" }
    }
    return out
  }

  public func write(to path: String, format: GraphFormat = .edges) throws {
    try serialized(format: format).write(toFile: path, atomically: true, encoding: .utf8)
  }
}
