import Numerics

/// Why a graph could not be generated.
public struct GraphGenerationError: Error, CustomStringConvertible, Sendable {
  public var description: String
}

/// Seeded graph generators for `peerctl graph`. Same seed, same graph.
extension Graph {
  /// A connected random d-regular graph (pairing model with restarts, then a connectivity check).
  public static func regular(nodes n: Int, degree d: Int, rng: inout Xoshiro256) throws -> Graph {
    guard n > 0, d >= 0, d < n else {
      throw GraphGenerationError(description: "a \(d)-regular graph needs 0 ≤ degree < nodes (got \(n) nodes)")
    }
    guard (n * d) % 2 == 0 else {
      throw GraphGenerationError(description: "nodes × degree must be even for a regular graph (\(n) × \(d))")
    }
    if d == n - 1 { return fullyConnected(nodes: n) }
    for _ in 0..<2000 {
      if let g = tryPairing(n: n, d: d, rng: &rng), d == 0 || g.isConnected || n == 1 { return g }
    }
    throw GraphGenerationError(description: "could not find a connected \(d)-regular graph on \(n) nodes")
  }

  /// One attempt of the pairing (configuration) model that rejects loops and multi-edges by
  /// picking among compatible stubs; nil when it gets stuck.
  private static func tryPairing(n: Int, d: Int, rng: inout Xoshiro256) -> Graph? {
    var g = Graph(nodeCount: n)
    var stubs: [Int] = []
    for v in 0..<n { stubs.append(contentsOf: repeatElement(v, count: d)) }
    rng.shuffle(&stubs)
    while !stubs.isEmpty {
      let a = stubs.removeLast()
      var candidates: [Int] = []
      for (i, b) in stubs.enumerated() where b != a && !g.hasEdge(a, b) { candidates.append(i) }
      guard !candidates.isEmpty else { return nil }
      let pick = candidates[rng.nextInt(below: candidates.count)]
      let b = stubs.remove(at: pick)
      g.addEdge(a, b)
    }
    return g
  }

  public static func ring(nodes n: Int) -> Graph {
    var g = Graph(nodeCount: n)
    if n > 1 { for v in 0..<n where v != (v + 1) % n { g.addEdge(v, (v + 1) % n) } }
    return g
  }

  public static func fullyConnected(nodes n: Int) -> Graph {
    var g = Graph(nodeCount: n)
    for a in 0..<n { for b in (a + 1)..<max(a + 1, n) { g.addEdge(a, b) } }
    return g
  }

  /// Node 0 is the hub.
  public static func star(nodes n: Int) -> Graph {
    var g = Graph(nodeCount: n)
    for v in 1..<max(1, n) { g.addEdge(0, v) }
    return g
  }

  /// Watts–Strogatz: a ring lattice where each node links to `k` nearest neighbours (k even),
  /// each edge rewired with probability `p`.
  public static func smallWorld(nodes n: Int, k: Int, p: Double, rng: inout Xoshiro256) throws -> Graph {
    guard k % 2 == 0, k >= 2, k < n else {
      throw GraphGenerationError(description: "small-world needs an even k with 2 ≤ k < nodes (got k=\(k), nodes=\(n))")
    }
    guard p >= 0 && p <= 1 else {
      throw GraphGenerationError(description: "rewiring probability must be in [0, 1], got \(p)")
    }
    var g = Graph(nodeCount: n)
    for v in 0..<n { for j in 1...(k / 2) { g.addEdge(v, (v + j) % n) } }
    var result = Graph(nodeCount: n)
    for (a, b) in g.edges {
      if rng.nextDouble() < p {
        var tries = 0
        while tries < 10 * n {
          let c = rng.nextInt(below: n)
          if c != a && !result.hasEdge(a, c) && !g.hasEdge(a, c) {
            result.addEdge(a, c)
            break
          }
          tries += 1
        }
        if tries == 10 * n { result.addEdge(a, b) }
      } else {
        result.addEdge(a, b)
      }
    }
    return result
  }

  /// G(n, p); with `connected`, redraws until connected (up to 1000 times).
  public static func erdosRenyi(nodes n: Int, p: Double, connected: Bool = true, rng: inout Xoshiro256) throws -> Graph
  {
    guard p >= 0 && p <= 1 else {
      throw GraphGenerationError(description: "edge probability must be in [0, 1], got \(p)")
    }
    for _ in 0..<1000 {
      var g = Graph(nodeCount: n)
      for a in 0..<n { for b in (a + 1)..<max(a + 1, n) where rng.nextDouble() < p { g.addEdge(a, b) } }
      if !connected || g.isConnected { return g }
    }
    throw GraphGenerationError(description: "no connected G(\(n), \(p)) in 1000 draws; raise p")
  }
}
