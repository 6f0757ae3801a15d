/// The names one pluggable kind (datasets, models, optimizers, losses, sharing methods,
/// algorithms) answers to, registered once.
///
/// decentralizepy resolves a class by module and name, so adding one is one file. Here each kind
/// keeps one `Registry`: every entry lists its canonical name and its aliases together, lookups
/// go through that list only, and the "supported" list in an error is derived from it, so an
/// alias can never become unreachable behind a separate list of names.
public struct Registry<Maker>: @unchecked Sendable {
  public struct Entry: @unchecked Sendable {
    /// The name documented and printed in errors.
    public let name: String
    /// Other spellings that resolve to this entry (matched like `name`).
    public let aliases: [String]
    public let make: Maker

    public init(_ name: String, aliases: [String] = [], make: Maker) {
      self.name = name
      self.aliases = aliases
      self.make = make
    }

    func answers(to key: String) -> Bool {
      Registry.normalise(name) == key || aliases.contains { Registry.normalise($0) == key }
    }
  }

  /// What the registry holds, as the config key that names it: `[SHARING] sharing_class`.
  public let kind: String
  public let entries: [Entry]

  public init(kind: String, _ entries: [Entry]) {
    self.kind = kind
    self.entries = entries
    var seen: [String: String] = [:]
    for e in entries {
      for n in [e.name] + e.aliases {
        let key = Self.normalise(n)
        precondition(seen[key] == nil, "\(kind): '\(n)' is registered twice (also for \(seen[key] ?? ""))")
        seen[key] = e.name
      }
    }
  }

  /// The canonical names, in registration order.
  public var names: [String] { entries.map(\.name) }

  /// The entry `name` denotes, or nil. Case, spaces and the characters `-` and `_` do not matter, so
  /// `d-psgd`, `DPSGD` and `dpsgd` are one name.
  public func entry(named name: String) -> Entry? {
    let key = Self.normalise(name)
    return entries.first { $0.answers(to: key) }
  }

  /// The entry `name` denotes, or an error listing what is supported.
  public func resolve(_ name: String) throws(RegistryError) -> Entry {
    guard let e = entry(named: name) else { throw RegistryError(kind: kind, name: name, supported: names) }
    return e
  }

  static func normalise(_ s: String) -> String {
    String(s.lowercased().unicodeScalars.filter { $0 != "-" && $0 != "_" && $0 != " " })
  }
}

/// A name no entry of a registry answers to.
public struct RegistryError: Error, Equatable, Sendable, CustomStringConvertible {
  public var kind: String
  public var name: String
  public var supported: [String]

  public init(kind: String, name: String, supported: [String]) {
    self.kind = kind
    self.name = name
    self.supported = supported
  }

  public var description: String {
    "\(kind) '\(name)' is not supported; supported: \(supported.joined(separator: ", "))"
  }
}
