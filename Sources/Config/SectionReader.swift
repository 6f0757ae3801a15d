/// Typed, located reads of one section's values; remembers which keys were read so that the
/// rest can be reported as unknown.
///
/// Every conversion failure is an error naming file, line, section and key. Nothing the user
/// wrote wrong is silently replaced by a default.
public struct SectionReader {
  public let document: INIDocument
  public let name: String
  private(set) var used: Set<String> = []

  public init(document: INIDocument, name: String) {
    self.document = document
    self.name = name
  }

  func entry(_ key: String) -> INIDocument.Entry? { document.entry(name, key) }

  func error(_ key: String, _ message: String) -> ConfigError {
    ConfigError(
      file: document.path, line: entry(key)?.line ?? document.section(name)?.line, section: name, key: key,
      message: message)
  }

  /// The raw value, or nil when the key is absent.
  public mutating func string(_ key: String) -> String? {
    used.insert(key)
    return entry(key)?.value
  }

  /// A non-empty value (absent or blank gives nil).
  public mutating func nonEmpty(_ key: String) -> String? {
    guard let v = string(key)?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
    return Self.unquote(v)
  }

  public mutating func required(_ key: String) throws -> String {
    guard let v = nonEmpty(key) else { throw error(key, "required key is missing or blank") }
    return v
  }

  public mutating func int(_ key: String) throws -> Int? {
    guard let v = nonEmpty(key) else { return nil }
    guard let i = Int(v) else { throw error(key, "expected a whole number, got '\(v)'") }
    return i
  }

  public mutating func int(_ key: String, default value: Int, min: Int? = nil) throws -> Int {
    let v = try int(key) ?? value
    if let min, v < min { throw error(key, "must be at least \(min), got \(v)") }
    return v
  }

  public mutating func double(_ key: String) throws -> Double? {
    guard let v = nonEmpty(key) else { return nil }
    guard let d = Double(v), d.isFinite else { throw error(key, "expected a number, got '\(v)'") }
    return d
  }

  public mutating func double(_ key: String, default value: Double) throws -> Double { try double(key) ?? value }

  public mutating func bool(_ key: String) throws -> Bool? {
    guard let v = nonEmpty(key) else { return nil }
    switch v.lowercased() {
    case "true", "yes", "on", "1": return true
    case "false", "no", "off", "0": return false
    default: throw error(key, "expected True or False, got '\(v)'")
    }
  }

  public mutating func bool(_ key: String, default value: Bool) throws -> Bool { try bool(key) ?? value }

  /// A list of numbers: `[0.1, 0.2]`, `(0.9, 0.999)` or `0.1, 0.2`. Blank gives nil.
  public mutating func doubles(_ key: String) throws -> [Double]? {
    guard var v = nonEmpty(key) else { return nil }
    if (v.hasPrefix("[") && v.hasSuffix("]")) || (v.hasPrefix("(") && v.hasSuffix(")")) {
      v = String(v.dropFirst().dropLast())
    }
    let parts = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    return try parts.map { p in
      guard let d = Double(p), d.isFinite else {
        throw error(key, "expected a list of numbers like [0.1, 0.2], got '\(p)' in it")
      }
      return d
    }
  }

  public mutating func ints(_ key: String) throws -> [Int]? {
    try doubles(key).map { list in
      try list.map { d in
        guard d == d.rounded(), abs(d) < 1e15 else { throw error(key, "expected whole numbers, got \(d)") }
        return Int(d)
      }
    }
  }

  /// Marks keys as known without reading them (accepted for compatibility, unused by peerd).
  public mutating func accept(_ keys: [String]) { used.formUnion(keys) }

  /// Warnings for keys this section has that nobody read.
  public func unknownKeyWarnings() -> [String] {
    (document.section(name)?.entries ?? []).filter { !used.contains($0.key) }.map {
      "\(document.path):\($0.line): unknown key '\($0.key)' in [\(name)] (ignored)"
    }
  }

  static func unquote(_ s: String) -> String {
    if s.count >= 2, (s.hasPrefix("\"") && s.hasSuffix("\"")) || (s.hasPrefix("'") && s.hasSuffix("'")) {
      return String(s.dropFirst().dropLast())
    }
    return s
  }
}
