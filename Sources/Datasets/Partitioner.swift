import Numerics

/// How training samples are dealt to nodes (decentralizepy semantics where it has them).
public enum PartitionScheme: Sendable, Equatable {
  /// Shuffle, then equal consecutive parts (the remainder is dropped, as decentralizepy does).
  case iid
  /// Shuffle, then consecutive parts of these fractions, one per node.
  case sizes([Double])
  /// Sort by label, cut into nodes × perNode shards, deal perNode random shards to each node.
  case shards(perNode: Int)
  /// Per class, node proportions drawn from Dirichlet(alpha).
  case dirichlet(alpha: Double)
  /// Node i holds classes (i·k + j) mod C for j < k; each class is split evenly among its holders.
  case classesPerNode(Int)
  /// Users (LEAF, MovieLens) dealt to nodes; the reader does this itself.
  case byUser
}

/// Computes every node's sample indices from the labels and the seed alone, so each node
/// computes the same partition independently.
public enum Partitioner {
  ///
  /// Every node must get at least one sample: a node without data would only average, and
  /// report a training loss of 0. Since every node computes the whole partition, node 0 (and
  /// `peerctl check`) finds an empty node anywhere in the graph.
  public static func partition(
    labels: [Int32], classes: Int, nodes: Int, scheme: PartitionScheme, rng seed: Xoshiro256
  ) throws -> [[Int]] {
    let parts = try parts(labels: labels, classes: classes, nodes: nodes, scheme: scheme, rng: seed)
    if let empty = parts.firstIndex(where: \.isEmpty) {
      let why: String
      switch scheme {
      case .sizes(let fractions): why = "sizes gives it \(fractions[empty]) of \(labels.count) samples"
      case .classesPerNode(let k): why = "its \(k) class(es) have fewer samples than nodes holding them"
      default: why = "\(labels.count) samples over \(nodes) nodes"
      }
      throw DatasetError(
        "node \(empty) would get no training samples (\(why)); every node needs at least one", kind: .emptyShard)
    }
    return parts
  }

  static func parts(
    labels: [Int32], classes: Int, nodes: Int, scheme: PartitionScheme, rng seed: Xoshiro256
  ) throws -> [[Int]] {
    var rng = seed
    let n = labels.count
    guard nodes > 0 else { throw DatasetError("the number of nodes must be positive", kind: .badSettings) }
    guard nodes <= n else { throw DatasetError("cannot split \(n) samples over \(nodes) nodes", kind: .badSettings) }
    switch scheme {
    case .iid, .byUser:
      return try bySizes(n: n, fractions: [Double](repeating: 1 / Double(nodes), count: nodes), rng: &rng)
    case .sizes(let fractions):
      guard fractions.count == nodes else {
        throw DatasetError(
          "sizes lists \(fractions.count) fractions for \(nodes) nodes; give one per node", kind: .badSettings)
      }
      guard fractions.allSatisfy({ $0 >= 0 }), abs(fractions.reduce(0, +) - 1) < 1e-3 else {
        throw DatasetError(
          "sizes must be non-negative fractions summing to 1, got sum \(fractions.reduce(0, +))", kind: .badSettings)
      }
      return try bySizes(n: n, fractions: fractions, rng: &rng)
    case .shards(let perNode):
      guard perNode > 0, nodes * perNode <= n else {
        throw DatasetError("cannot cut \(n) samples into \(nodes) × \(perNode) shards", kind: .badSettings)
      }
      // Stable sort by label so ties keep index order: the result depends only on the data.
      let sorted = (0..<n).sorted { labels[$0] != labels[$1] ? labels[$0] < labels[$1] : $0 < $1 }
      let shardCount = nodes * perNode
      let shardSize = n / shardCount
      var shardOrder = Array(0..<shardCount)
      rng.shuffle(&shardOrder)
      return (0..<nodes).map { node in
        (0..<perNode).flatMap { k -> [Int] in
          let s = shardOrder[node * perNode + k]
          return Array(sorted[(s * shardSize)..<((s + 1) * shardSize)])
        }
      }
    case .dirichlet(let alpha):
      guard alpha > 0 else { throw DatasetError("dirichlet alpha must be positive, got \(alpha)") }
      var parts = [[Int]](repeating: [], count: nodes)
      for c in 0..<classes {
        var members = (0..<n).filter { labels[$0] == Int32(c) }
        rng.shuffle(&members)
        let p = rng.dirichlet(alpha: alpha, count: nodes)
        var start = 0
        var cumulative = 0.0
        for node in 0..<nodes {
          cumulative += p[node]
          let end =
            node == nodes - 1 ? members.count : min(members.count, Int((cumulative * Double(members.count)).rounded()))
          if end > start { parts[node] += members[start..<end] }
          start = max(start, end)
        }
      }
      if let empty = parts.firstIndex(where: \.isEmpty) {
        throw DatasetError(
          "Dirichlet(\(alpha)) left node \(empty) without samples; raise alpha or lower the node count",
          kind: .emptyShard)
      }
      return parts
    case .classesPerNode(let k):
      guard k > 0, k <= classes else {
        throw DatasetError("classes_per_node must be 1…\(classes), got \(k)", kind: .badSettings)
      }
      var holders = [[Int]](repeating: [], count: classes)
      for node in 0..<nodes { for j in 0..<k { holders[(node * k + j) % classes].append(node) } }
      var parts = [[Int]](repeating: [], count: nodes)
      for c in 0..<classes where !holders[c].isEmpty {
        var members = (0..<n).filter { labels[$0] == Int32(c) }
        rng.shuffle(&members)
        let h = holders[c].count
        for (r, node) in holders[c].enumerated() {
          parts[node] += members[(r * members.count / h)..<((r + 1) * members.count / h)]
        }
      }
      return parts
    }
  }

  static func bySizes(n: Int, fractions: [Double], rng: inout Xoshiro256) throws -> [[Int]] {
    var order = Array(0..<n)
    rng.shuffle(&order)
    var parts: [[Int]] = []
    var start = 0
    for f in fractions {
      let length = Int(f * Double(n))
      parts.append(Array(order[start..<min(n, start + length)]))
      start += length
    }
    return parts
  }
}
