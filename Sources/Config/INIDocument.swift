import Foundation

/// A config problem, located: `file:line: [SECTION] key: message`.
///
/// `kind` lets a caller or a test tell the classes of problem apart without reading the text.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    /// The file cannot be read, or is not UTF-8 text.
    case unreadable
    /// INI syntax: a malformed line, a duplicate key or section, a key outside a section.
    case syntax
    /// A required section or key is absent or blank.
    case missing
    /// A value that does not parse as the key's type.
    case malformedValue
    /// A value of the right type outside the key's documented range.
    case outOfRange
    /// A class or mode name this build does not implement.
    case unsupported
  }

  public var kind: Kind
  public var file: String
  public var line: Int?
  public var section: String?
  public var key: String?
  public var message: String

  public init(
    _ kind: Kind = .malformedValue, file: String, line: Int? = nil, section: String? = nil, key: String? = nil,
    message: String
  ) {
    self.kind = kind
    self.file = file
    self.line = line
    self.section = section
    self.key = key
    self.message = message
  }

  public var description: String {
    var where_ = file
    if let line { where_ += ":\(line)" }
    var what = ""
    if let section { what += "[\(INIDocument.excerpt(section, quoted: false))] " }
    if let key { what += "\(INIDocument.excerpt(key, quoted: false)): " }
    return "\(where_): \(what)\(message)"
  }
}

/// An INI file as Python's configparser reads it (decentralizepy's configs are read that way).
///
/// - `[SECTION]` headers; `key = value` or `key: value`; keys are case-insensitive (lower-cased).
/// - Full-line comments start with `#` or `;`; an inline comment needs whitespace before `;` or `#`.
/// - Indented lines continue the previous value; blank values (`sizes =`) are empty strings.
/// - A duplicate key or section, or a key before any section, is an error naming both lines.
/// - Lines end in LF, CRLF or CR (configparser reads files in universal-newline mode), and a
///   leading UTF-8 byte-order mark is skipped, so files saved by Windows editors load unchanged.
public struct INIDocument: Sendable {
  public struct Entry: Sendable {
    public var key: String
    public var value: String
    public var line: Int
  }

  public struct Section: Sendable {
    public var name: String
    public var line: Int
    public var entries: [Entry]
  }

  public var path: String
  public var sections: [Section]

  public func section(_ name: String) -> Section? { sections.first { $0.name == name } }

  public func entry(_ section: String, _ key: String) -> Entry? {
    self.section(section)?.entries.first { $0.key == key }
  }

  /// Reads and parses a file.
  public static func load(path: String) throws -> INIDocument {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigError(.unreadable, file: path, message: "cannot read the config file (missing or unreadable)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw ConfigError(.unreadable, file: path, message: "the config file is not UTF-8 text")
    }
    return try parse(text, path: path)
  }

  public static func parse(_ text: String, path: String = "<config>") throws -> INIDocument {
    var sections: [Section] = []
    var lastKeyLine: Int?
    for (index, rawLine) in lines(of: text).enumerated() {
      let number = index + 1
      let line = String(rawLine)
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty {
        lastKeyLine = nil
        continue
      }
      if trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
      let indented = line.first == " " || line.first == "\t"
      if indented, let keyLine = lastKeyLine, !sections.isEmpty {
        // configparser continuation line.
        let s = sections.count - 1
        if let e = sections[s].entries.lastIndex(where: { $0.line == keyLine }) {
          let extra = stripInlineComment(trimmed)
          sections[s].entries[e].value += sections[s].entries[e].value.isEmpty ? extra : "\n" + extra
          continue
        }
      }
      if trimmed.hasPrefix("[") {
        guard trimmed.hasSuffix("]"), trimmed.count > 2 else {
          throw ConfigError(
            .syntax, file: path, line: number, message: "malformed section header \(excerpt(trimmed)); expected [NAME]")
        }
        let name = String(trimmed.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
        if let previous = sections.first(where: { $0.name == name }) {
          throw ConfigError(
            .syntax, file: path, line: number,
            message: "section [\(excerpt(name, quoted: false))] repeated (first at line \(previous.line))")
        }
        sections.append(Section(name: name, line: number, entries: []))
        lastKeyLine = nil
        continue
      }
      guard let sep = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
        throw ConfigError(.syntax, file: path, line: number, message: "expected 'key = value', got \(excerpt(trimmed))")
      }
      let key = trimmed[..<sep].trimmingCharacters(in: .whitespaces).lowercased()
      let value = stripInlineComment(trimmed[trimmed.index(after: sep)...].trimmingCharacters(in: .whitespaces))
      guard !key.isEmpty else {
        throw ConfigError(.syntax, file: path, line: number, message: "missing key before '\(trimmed[sep])'")
      }
      guard !sections.isEmpty else {
        throw ConfigError(
          .syntax, file: path, line: number, key: key,
          message: "key outside any section; add a [SECTION] header above it")
      }
      let s = sections.count - 1
      if let previous = sections[s].entries.first(where: { $0.key == key }) {
        throw ConfigError(
          .syntax, file: path, line: number, section: sections[s].name, key: key,
          message: "duplicate key (first at line \(previous.line))")
      }
      sections[s].entries.append(Entry(key: key, value: value, line: number))
      lastKeyLine = number
    }
    return INIDocument(path: path, sections: sections)
  }

  /// The lines of `text`, split at LF, CRLF or CR, after a leading byte-order mark.
  ///
  /// Swift's `Character` holds CRLF as one grapheme, so splitting at `"\n"` alone leaves a CRLF
  /// file as a single line.
  static func lines(of text: String) -> [Substring] {
    var body = Substring(text)
    if body.first == "\u{FEFF}" { body = body.dropFirst() }
    return body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
  }

  /// `text` quoted for a message, cut to 60 characters so that a long or binary line never
  /// floods the one-line error.
  static func excerpt(_ text: some StringProtocol, quoted: Bool = true) -> String {
    var cut = text.count > 60 ? text.prefix(60) + "…" : String(text)
    // A continued value holds line breaks, and a damaged file control characters; the message
    // stays one readable line.
    func isControl(_ c: Character) -> Bool {
      c.unicodeScalars.contains {
        $0.properties.generalCategory == .control || $0.properties.generalCategory == .format
      }
    }
    if cut.contains(where: { $0.isNewline || isControl($0) }) {
      cut = cut.map { $0.isNewline ? "⏎" : isControl($0) ? "?" : String($0) }.joined()
    }
    return quoted ? "'\(cut)'" : cut
  }

  /// Removes ` ; comment` / ` # comment` (whitespace before the marker, as configparser's
  /// inline_comment_prefixes), leaving `a#b` alone.
  static func stripInlineComment(_ value: String) -> String {
    var previous: Character = " "
    for (i, c) in value.enumerated() {
      if (c == ";" || c == "#") && (previous == " " || previous == "\t") && i > 0 {
        return String(value.prefix(i)).trimmingCharacters(in: .whitespaces)
      }
      previous = c
    }
    return value
  }
}
