/// A decentralized learning algorithm, as a strategy the one node loop calls.
///
/// The loop owns the sockets, the clock, liveness and results; an algorithm owns only its own
/// protocol state (buffered messages, ages, counters). Synchronous algorithms (D-PSGD) do one
/// round per `runIteration`; asynchronous ones (RWM, SwarmAvg) do one local step and return,
/// and both wait for messages only through `Node.wait(for:until:)`, so there is no second loop.
public protocol Algorithm: AnyObject {
  /// The registered name (`[NODE] algorithm`).
  static var name: String { get }

  /// Called by the node whenever a valid model message arrives, from inside its waits (so never
  /// concurrently with `runIteration`'s own code). Messages may be early or late. Returns false
  /// for a message the algorithm has no use for (a stale round): it does not count as a sign of
  /// life, so a peer stuck in the past cannot keep this node waiting.
  func receive(_ message: ModelMessage, node: Node) -> Bool

  /// Runs one round or step. Returns `false` once this node has finished.
  func runIteration(node: Node) throws -> Bool
}

/// An unknown algorithm name, or one this build does not implement yet.
public struct AlgorithmError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Maps `[NODE] algorithm` names to implementations. Adding an algorithm is one file and one
/// line here.
public enum AlgorithmRegistry {
  public static let names = [DPSGD.name]

  public static func make(_ name: String) throws -> any Algorithm {
    switch name.lowercased() {
    case "dpsgd", "d-psgd": return DPSGD()
    default:
      throw AlgorithmError("unknown algorithm '\(name)'; supported: \(names.joined(separator: ", "))")
    }
  }
}
