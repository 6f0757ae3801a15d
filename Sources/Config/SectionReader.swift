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

  /// A value as the config wrote it, for a message (`1e39`, not `1e+39`).
  func written(_ key: String) -> String {
    INIDocument.excerpt(entry(key)?.value ?? "", quoted: false)
  }

  func error(_ key: String, _ message: String, _ kind: ConfigError.Kind = .malformedValue) -> ConfigError {
    ConfigError(
      kind, file: document.path, line: entry(key)?.line ?? document.section(name)?.line, section: name, key: key,
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
    guard let v = nonEmpty(key) else { throw error(key, "required key is missing or blank", .missing) }
    return v
  }

  public mutating func int(_ key: String) throws -> Int? {
    guard let v = nonEmpty(key) else { return nil }
    guard let i = Int(v) else { throw error(key, "expected a whole number, got \(INIDocument.excerpt(v))") }
    return i
  }

  /// A whole number within `min…max`; a value outside (even one too large for `Int`) is an
  /// error that states the bound.
  public mutating func int(_ key: String, default value: Int, min: Int? = nil, max: Int? = nil) throws -> Int {
    try int(key, min: min, max: max) ?? value
  }

  /// A whole number within `min…max`, or nil when the key is absent or blank.
  public mutating func int(_ key: String, min: Int?, max: Int?) throws -> Int? {
    guard let text = nonEmpty(key) else { return nil }
    func outOfRange() -> ConfigError {
      let got = INIDocument.excerpt(text, quoted: false)
      switch (min, max) {
      case (let lo?, let hi?): return error(key, "must be between \(lo) and \(hi), got \(got)", .outOfRange)
      case (let lo?, nil): return error(key, "must be at least \(lo), got \(got)", .outOfRange)
      case (nil, let hi?): return error(key, "must be at most \(hi), got \(got)", .outOfRange)
      case (nil, nil): return error(key, "\(got) does not fit a 64-bit integer", .outOfRange)
      }
    }
    guard let v = Int(text) else {
      let digits = text.drop { $0 == "-" || $0 == "+" }
      if !digits.isEmpty && digits.allSatisfy({ $0.isASCII && $0.isNumber }) { throw outOfRange() }
      throw error(key, "expected a whole number, got \(INIDocument.excerpt(text))")
    }
    if let min, v < min { throw outOfRange() }
    if let max, v > max { throw outOfRange() }
    return v
  }

  public mutating func double(_ key: String) throws -> Double? {
    guard let v = nonEmpty(key) else { return nil }
    guard let d = Double(v), d.isFinite else { throw error(key, "expected a number, got \(INIDocument.excerpt(v))") }
    return d
  }

  public mutating func double(_ key: String, default value: Double) throws -> Double { try double(key) ?? value }

  /// A number for which `valid` holds; otherwise an error saying it `must be <expected>`
  /// (for example "in [0, 1)"), quoting the value as written.
  public mutating func double(_ key: String, default value: Double, expected: String, where valid: (Double) -> Bool)
    throws -> Double
  {
    let text = nonEmpty(key)
    let v = try double(key) ?? value
    guard valid(v) else {
      throw error(key, "must be \(expected), got \(INIDocument.excerpt(text ?? "\(v)", quoted: false))", .outOfRange)
    }
    return v
  }

  public mutating func bool(_ key: String) throws -> Bool? {
    guard let v = nonEmpty(key) else { return nil }
    switch v.lowercased() {
    case "true", "yes", "on", "1": return true
    case "false", "no", "off", "0": return false
    default: throw error(key, "expected True or False, got \(INIDocument.excerpt(v))")
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
        throw error(key, "expected a list of numbers like [0.1, 0.2], got \(INIDocument.excerpt(p)) in it")
      }
      return d
    }
  }

  public mutating func ints(_ key: String) throws -> [Int]? {
    try doubles(key).map { list in
      try list.map { d in
        guard d == d.rounded(), abs(d) < 1e15 else {
          throw error(key, "expected whole numbers, got \(INIDocument.excerpt("\(d)", quoted: false))")
        }
        return Int(d)
      }
    }
  }

  /// Marks keys as known without reading them (accepted for compatibility, unused by peerd).
  public mutating func accept(_ keys: [String]) { used.formUnion(keys) }

  /// Warnings for keys this section has that nobody read.
  public func unknownKeyWarnings() -> [String] {
    (document.section(name)?.entries ?? []).filter { !used.contains($0.key) }.map {
      "\(document.path):\($0.line): unknown key \(INIDocument.excerpt($0.key)) in [\(name)] (ignored)"
    }
  }

  static func unquote(_ s: String) -> String {
    if s.count >= 2, (s.hasPrefix("\"") && s.hasSuffix("\"")) || (s.hasPrefix("'") && s.hasSuffix("'")) {
      return String(s.dropFirst().dropLast())
    }
    return s
  }
}
