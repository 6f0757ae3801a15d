import Foundation

/// A graph file that could not be read, with the file and line.
public struct GraphFileError: Error, CustomStringConvertible, Sendable {
  public var path: String
  public var line: Int?
  public var message: String
  public var description: String { "\(path)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

/// decentralizepy's two graph file formats.
///
/// - `edges`: the first line is the node count, then one `a b` edge per line.
/// - `adjacency`: the first line is the node count, then line i+1 lists node i's neighbours,
///   separated by spaces.
/// Both are undirected: `a b` also makes b a neighbour of a. Blank lines and `#` comments are
/// skipped.
public enum GraphFormat: String, Sendable, CaseIterable {
  case edges, adjacency, auto
}

extension Graph {
  /// Reads a graph file. With `.auto`, a file whose data lines all hold exactly two numbers is an
  /// edge list; otherwise it is an adjacency list.
  public static func read(path: String, format: GraphFormat = .auto) throws -> Graph {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw GraphFileError(path: path, line: nil, message: "cannot read the graph file (missing or unreadable)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw GraphFileError(path: path, line: nil, message: "not UTF-8 text")
    }
    return try parse(text, path: path, format: format)
  }

  public static func parse(_ text: String, path: String = "<graph>", format: GraphFormat = .auto) throws -> Graph {
    var lines: [(number: Int, fields: [String])] = []
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      var line = Substring(raw)
      if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "," }).map(String.init)
      lines.append((i + 1, fields))
    }
    guard let header = lines.first(where: { !$0.fields.isEmpty }) else {
      throw GraphFileError(
        path: path, line: nil, message: "empty graph file; expected the node count on the first line")
    }
    guard header.fields.count == 1, let n = Int(header.fields[0]), n > 0 else {
      throw GraphFileError(
        path: path, line: header.number,
        message: "expected the node count (a positive integer), got '\(header.fields.joined(separator: " "))'")
    }
    let body = lines.filter { $0.number > header.number }
    var resolved = format
    if format == .auto {
      let dataLines = body.filter { !$0.fields.isEmpty }
      resolved = dataLines.allSatisfy { $0.fields.count == 2 } && dataLines.count != n ? .edges : .adjacency
      if dataLines.allSatisfy({ $0.fields.count == 2 }) && dataLines.count == n {
        // Ambiguous (n lines of 2): an adjacency list of a 2-regular graph lists each node's
        // neighbours on its own line; an edge list of n edges does not need to. Prefer edges
        // unless line i contains i's neighbours consistently.
        resolved = looksLikeAdjacency(body, n: n) ? .adjacency : .edges
      }
    }
    var graph = Graph(nodeCount: n)
    func number(_ s: String, _ line: Int) throws -> Int {
      guard let v = Int(s) else {
        throw GraphFileError(path: path, line: line, message: "expected a node index, got '\(s)'")
      }
      guard v >= 0 && v < n else {
        throw GraphFileError(path: path, line: line, message: "node \(v) out of range 0..<\(n)")
      }
      return v
    }
    switch resolved {
    case .edges, .auto:
      for l in body where !l.fields.isEmpty {
        guard l.fields.count == 2 else {
          throw GraphFileError(
            path: path, line: l.number, message: "expected an edge 'a b', got '\(l.fields.joined(separator: " "))'")
        }
        let a = try number(l.fields[0], l.number)
        let b = try number(l.fields[1], l.number)
        guard a != b else { throw GraphFileError(path: path, line: l.number, message: "self-loop on node \(a)") }
        graph.addEdge(a, b)
      }
    case .adjacency:
      var node = 0
      for l in body {
        if node >= n {
          if l.fields.isEmpty { continue }
          throw GraphFileError(path: path, line: l.number, message: "more adjacency lines than the \(n) nodes declared")
        }
        for f in l.fields {
          let b = try number(f, l.number)
          guard b != node else {
            throw GraphFileError(path: path, line: l.number, message: "self-loop on node \(node)")
          }
          graph.addEdge(node, b)
        }
        node += 1
      }
    }
    return graph
  }

  private static func looksLikeAdjacency(_ body: [(number: Int, fields: [String])], n: Int) -> Bool {
    let rows = body.prefix(n).map { $0.fields.compactMap(Int.init) }
    guard rows.count == n else { return false }
    for (i, row) in rows.enumerated() {
      for j in row where j >= 0 && j < n {
        if !rows[j].contains(i) { return false }
      }
    }
    return true
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
