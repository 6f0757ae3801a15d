import Foundation

/// Reads the lines appended to an events file since the last call: the first call reads it all,
/// later ones only what was added, so following a long run costs what it writes, not its size.
///
/// A line not yet finished (no newline) waits for the next call; a line that is not a
/// `NodeEvent` (a torn line of a killed node) is skipped.
final class EventFollower {
  let path: String
  private var offset: UInt64 = 0
  private var partial = Data()
  private let decoder: JSONDecoder

  init(path: String) {
    self.path = path
    decoder = RunRecords.resultsDecoder()
  }

  /// The complete events added since the last call (none when the file cannot be read).
  func poll() -> [NodeEvent] {
    guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
    defer { try? handle.close() }
    let size = (try? handle.seekToEnd()) ?? 0
    if size < offset {
      // Replaced or truncated: read it again from the start.
      offset = 0
      partial = Data()
    }
    guard size > offset else { return [] }
    do { try handle.seek(toOffset: offset) } catch { return [] }
    guard let data = try? handle.read(upToCount: Int(size - offset)) else { return [] }
    offset += UInt64(data.count)
    partial.append(data)
    guard let lastNewline = partial.lastIndex(of: 0x0A) else { return [] }
    let complete = partial[partial.startIndex..<lastNewline]
    partial = Data(partial[partial.index(after: lastNewline)...])
    return complete.split(separator: 0x0A).compactMap { try? decoder.decode(NodeEvent.self, from: Data($0)) }
  }
}
