import Foundation

/// A JSON encoder that writes object keys in the order `encode(to:)` writes them.
///
/// Foundation's `JSONEncoder` writes keys either in hash order or, with `.sortedKeys`, as sorted
/// strings, which puts round "10" before round "2". decentralizepy's eval/plot.py takes the x
/// axis from a series' key order as it reads it, so `<uid>_results.json` must list rounds in
/// ascending order, as Python's `json.dump` of decentralizepy's dicts does. This encoder keeps
/// the `Codable` conformance as the one definition of the file (`RoundSeries` writes its rounds in
/// ascending order, synthesized conformances their declaration order) and only changes how the
/// tree is printed. Non-finite numbers are written as the strings "nan", "inf" and "-inf", as the
/// decoder (`RunRecords.resultsDecoder()`) reads them.
public struct OrderedJSONEncoder {
  /// Two spaces per level and one member per line; otherwise one line.
  public var pretty: Bool

  public init(pretty: Bool = true) { self.pretty = pretty }

  public func encode<T: Encodable>(_ value: T) throws -> Data {
    let root = JSONNode()
    try value.encode(to: TreeEncoder(box: root, codingPath: []))
    var out = ""
    root.write(to: &out, pretty: pretty, indent: 0)
    return Data(out.utf8)
  }
}

/// A node of the tree being encoded, filled in by the containers; objects keep their members in
/// the order they were added (a key written twice appears twice: no synthesized conformance does).
final class JSONNode {
  enum Kind {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array
    case object
  }
  var kind: Kind
  var items: [JSONNode] = []
  var members: [(key: String, value: JSONNode)] = []

  init(_ kind: Kind = .null) { self.kind = kind }

  func write(to out: inout String, pretty: Bool, indent: Int) {
    let pad = pretty ? "\n" + String(repeating: " ", count: indent + 2) : ""
    let close = pretty ? "\n" + String(repeating: " ", count: indent) : ""
    switch kind {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .number(let n): out += n
    case .string(let s): JSONNode.quote(s, into: &out)
    case .array:
      guard !items.isEmpty else {
        out += "[]"
        return
      }
      out += "["
      for (i, item) in items.enumerated() {
        out += (i == 0 ? "" : ",") + pad
        item.write(to: &out, pretty: pretty, indent: indent + 2)
      }
      out += close + "]"
    case .object:
      guard !members.isEmpty else {
        out += "{}"
        return
      }
      out += "{"
      for (i, member) in members.enumerated() {
        out += (i == 0 ? "" : ",") + pad
        JSONNode.quote(member.key, into: &out)
        out += pretty ? ": " : ":"
        member.value.write(to: &out, pretty: pretty, indent: indent + 2)
      }
      out += close + "}"
    }
  }

  static func quote(_ s: String, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
      default: out.unicodeScalars.append(u)
      }
    }
    out += "\""
  }

  /// Swift's description is the shortest text that reads back as the same Double, and valid JSON.
  static func number(_ d: Double) -> Kind {
    if d.isNaN { return .string("nan") }
    if d.isInfinite { return .string(d > 0 ? "inf" : "-inf") }
    return .number("\(d)")
  }
}

struct TreeEncoder: Encoder {
  let box: JSONNode
  var codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    if case .object = box.kind {} else { box.kind = .object }
    return KeyedEncodingContainer(KeyedTree<Key>(box: box, codingPath: codingPath))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    if case .array = box.kind {} else { box.kind = .array }
    return UnkeyedTree(box: box, codingPath: codingPath)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer { SingleTree(box: box, codingPath: codingPath) }
}

/// Encodes one value into a fresh box.
private func encoded(_ value: some Encodable, at path: [any CodingKey]) throws -> JSONNode {
  let b = JSONNode()
  switch value {
  case let d as Double: b.kind = JSONNode.number(d)
  case let f as Float: b.kind = JSONNode.number(Double(f))
  default: try value.encode(to: TreeEncoder(box: b, codingPath: path))
  }
  return b
}

struct KeyedTree<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let box: JSONNode
  var codingPath: [any CodingKey]

  private func add(_ key: Key, _ child: JSONNode) { box.members.append((key.stringValue, child)) }

  mutating func encodeNil(forKey key: Key) throws { add(key, JSONNode(.null)) }
  mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
    add(key, try encoded(value, at: codingPath + [key]))
  }
  mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
    let child = JSONNode(.object)
    add(key, child)
    return KeyedEncodingContainer(KeyedTree<N>(box: child, codingPath: codingPath + [key]))
  }
  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    let child = JSONNode(.array)
    add(key, child)
    return UnkeyedTree(box: child, codingPath: codingPath + [key])
  }
  mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }
  mutating func superEncoder(forKey key: Key) -> any Encoder {
    let child = JSONNode()
    add(key, child)
    return TreeEncoder(box: child, codingPath: codingPath + [key])
  }
}

struct UnkeyedTree: UnkeyedEncodingContainer {
  let box: JSONNode
  var codingPath: [any CodingKey]
  var count: Int { box.items.count }

  private func add(_ child: JSONNode) { box.items.append(child) }

  mutating func encodeNil() throws { add(JSONNode(.null)) }
  mutating func encode<T: Encodable>(_ value: T) throws { add(try encoded(value, at: codingPath)) }
  mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) -> KeyedEncodingContainer<N> {
    let child = JSONNode(.object)
    add(child)
    return KeyedEncodingContainer(KeyedTree<N>(box: child, codingPath: codingPath))
  }
  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
    let child = JSONNode(.array)
    add(child)
    return UnkeyedTree(box: child, codingPath: codingPath)
  }
  mutating func superEncoder() -> any Encoder {
    let child = JSONNode()
    add(child)
    return TreeEncoder(box: child, codingPath: codingPath)
  }
}

struct SingleTree: SingleValueEncodingContainer {
  let box: JSONNode
  var codingPath: [any CodingKey]

  mutating func encodeNil() throws { box.kind = .null }
  mutating func encode(_ value: Bool) throws { box.kind = .bool(value) }
  mutating func encode(_ value: String) throws { box.kind = .string(value) }
  mutating func encode(_ value: Double) throws { box.kind = JSONNode.number(value) }
  mutating func encode(_ value: Float) throws { box.kind = JSONNode.number(Double(value)) }
  mutating func encode(_ value: Int) throws { box.kind = .number("\(value)") }
  mutating func encode(_ value: Int8) throws { box.kind = .number("\(value)") }
  mutating func encode(_ value: Int16) throws { box.kind = .number("\(value)") }
  mutating func encode(_ value: Int32) throws { box.kind = .number("\(value)") }
  mutating func encode(_ value: Int64) throws { box.kind = .number("\(value)") }
  mutating func encode(_ value: UInt) throws { box.kind = .number("\(value)") }
  mutating func encode(_ value: UInt8) throws { box.kind = .number("\(value)") }
  mutating func encode(_ value: UInt16) throws { box.kind = .number("\(value)") }
  mutating func encode(_ value: UInt32) throws { box.kind = .number("\(value)") }
  mutating func encode(_ value: UInt64) throws { box.kind = .number("\(value)") }
  mutating func encode<T: Encodable>(_ value: T) throws {
    let b = try encoded(value, at: codingPath)
    box.kind = b.kind
    box.items = b.items
    box.members = b.members
  }
}
