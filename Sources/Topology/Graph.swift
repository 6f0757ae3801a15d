/// An undirected graph over nodes 0..<nodeCount: who exchanges models with whom.
///
/// A value type with sorted neighbour lists, so iteration order (and everything derived from
/// it) is deterministic.
public struct Graph: Sendable, Equatable {
  /// The most nodes a graph may have: every node listens on its own TCP port (`base_port +
  /// uid`), and there are 65,535 of them. A file or flag claiming more fails before anything
  /// of that size is allocated.
  public static let maximumNodeCount = 65_535

  public let nodeCount: Int
  private var adjacency: [[Int]]

  /// An empty graph of `nodeCount` nodes.
  public init(nodeCount: Int) {
    self.nodeCount = nodeCount
    adjacency = Array(repeating: [], count: nodeCount)
  }

  /// A graph from undirected edges; duplicates are ignored. Endpoints must be valid and distinct.
  public init(nodeCount: Int, edges: [(Int, Int)]) {
    self.init(nodeCount: nodeCount)
    for (a, b) in edges { addEdge(a, b) }
  }

  /// Adds the undirected edge a–b (no-op if present). Requires valid, distinct endpoints.
  public mutating func addEdge(_ a: Int, _ b: Int) {
    precondition(a != b && a >= 0 && b >= 0 && a < nodeCount && b < nodeCount, "invalid edge \(a)-\(b)")
    // Static, so that the call does not hold a copy of `self`: that copy kept a second
    // reference to `adjacency`, and every edge then copied the whole table (1.3 s for 550 edges
    // of a 65,535-node file, found by the fuzz harness).
    Self.insertSorted(b, into: &adjacency[a])
    Self.insertSorted(a, into: &adjacency[b])
  }

  public func hasEdge(_ a: Int, _ b: Int) -> Bool { adjacency[a].contains(b) }

  private static func insertSorted(_ v: Int, into list: inout [Int]) {
    var lo = 0
    var hi = list.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if list[mid] < v { lo = mid + 1 } else { hi = mid }
    }
    if lo < list.count && list[lo] == v { return }
    list.insert(v, at: lo)
  }

  /// Neighbours of `node`, ascending.
  public func neighbours(of node: Int) -> [Int] { adjacency[node] }
  public func degree(of node: Int) -> Int { adjacency[node].count }

  /// Every edge once, as (smaller, larger), sorted.
  public var edges: [(Int, Int)] {
    var out: [(Int, Int)] = []
    for a in 0..<nodeCount { for b in adjacency[a] where b > a { out.append((a, b)) } }
    return out
  }

  public var edgeCount: Int { adjacency.reduce(0) { $0 + $1.count } / 2 }

  public var isConnected: Bool { connectivity.firstUnreachable == nil }

  /// The number of connected components, and the smallest node that node 0 cannot reach (nil
  /// when the graph is connected).
  public var connectivity: (components: Int, firstUnreachable: Int?) {
    guard nodeCount > 0 else { return (0, nil) }
    var component = [Int](repeating: -1, count: nodeCount)
    var components = 0
    var stack: [Int] = []
    for start in 0..<nodeCount where component[start] < 0 {
      component[start] = components
      stack.append(start)
      while let v = stack.popLast() {
        for w in adjacency[v] where component[w] < 0 {
          component[w] = components
          stack.append(w)
        }
      }
      components += 1
    }
    return (components, component.firstIndex { $0 != 0 })
  }

  /// Degree statistics for `peerctl graph`.
  public struct DegreeStatistics: Sendable, Equatable, CustomStringConvertible {
    public var minimum: Int
    public var maximum: Int
    public var mean: Double
    /// degree → number of nodes with that degree.
    public var histogram: [Int: Int]

    public var description: String {
      let h = histogram.keys.sorted().map { "\($0):\(histogram[$0]!)" }.joined(separator: " ")
      return "degree min \(minimum) max \(maximum) mean \(String(format: "%.2f", mean)) histogram {\(h)}"
    }
  }

  public var degreeStatistics: DegreeStatistics {
    let degrees = adjacency.map(\.count)
    var histogram: [Int: Int] = [:]
    for d in degrees { histogram[d, default: 0] += 1 }
    return DegreeStatistics(
      minimum: degrees.min() ?? 0, maximum: degrees.max() ?? 0,
      mean: nodeCount == 0 ? 0 : Double(degrees.reduce(0, +)) / Double(nodeCount), histogram: histogram)
  }

  public static func == (l: Graph, r: Graph) -> Bool { l.nodeCount == r.nodeCount && l.adjacency == r.adjacency }
}
