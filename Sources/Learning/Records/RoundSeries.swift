/// A value per round, written the way decentralizepy writes its results: a JSON object whose
/// keys are round numbers as strings (`{"10": 0.91, "20": 0.93}`).
///
/// `JSONEncoder` would write an `[Int: V]` as a flat array of alternating keys and values, which
/// no decentralizepy script reads; this type keeps the dictionary in Swift and the object on disk.
public struct RoundSeries<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
  public var values: [Int: Value]

  public init(_ values: [Int: Value] = [:]) { self.values = values }

  public subscript(round: Int) -> Value? {
    get { values[round] }
    set { values[round] = newValue }
  }

  public var isEmpty: Bool { values.isEmpty }
  public var rounds: [Int] { values.keys.sorted() }
  /// The value at the highest round.
  public var last: Value? { values.keys.max().flatMap { values[$0] } }

  private struct RoundKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) {
      self.stringValue = stringValue
      intValue = Int(stringValue)
    }
    init(intValue: Int) {
      stringValue = String(intValue)
      self.intValue = intValue
    }
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: RoundKey.self)
    var values: [Int: Value] = [:]
    for key in container.allKeys {
      guard let round = Int(key.stringValue) else {
        throw DecodingError.dataCorruptedError(
          forKey: key, in: container, debugDescription: "'\(key.stringValue)' is not a round number")
      }
      values[round] = try container.decode(Value.self, forKey: key)
    }
    self.values = values
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: RoundKey.self)
    for round in values.keys.sorted() { try container.encode(values[round]!, forKey: RoundKey(intValue: round)) }
  }
}
