import Foundation
import Numerics

/// MovieLens ratings (ml-latest-small `ratings.csv`), as the seed report uses them: users are
/// dealt to nodes, each user's ratings are split 70:30 into train and test, and a node evaluates
/// on its own users' test ratings. User and movie ids are remapped to dense indices (ascending
/// id order over the whole file) shared by every node.
public final class RatingSource: SampleSource {
  let users: [Int32]
  let items: [Int32]
  let ratings: [Float]

  init(users: [Int32], items: [Int32], ratings: [Float]) {
    self.users = users
    self.items = items
    self.ratings = ratings
  }

  public var count: Int { ratings.count }
  public var inputShape: [Int] { [] }
  public var classCount: Int { 0 }
  public func label(at index: Int) -> Int32 { 0 }

  public func fill(_ batch: inout Batch, indices: ArraySlice<Int>) {
    batch.removeAll()
    batch.inputShape = []
    batch.count = indices.count
    for i in indices {
      batch.indices.append(users[i])
      batch.indices.append(items[i])
      batch.targets.append(ratings[i])
    }
  }
}

public enum MovieLensReader {
  public struct Ratings: Sendable {
    public var users: [Int32]
    public var items: [Int32]
    public var ratings: [Float]
    public var userCount: Int
    public var itemCount: Int
  }

  /// Reads ratings through a binary cache in `cacheDirectory`: the first process on a machine
  /// parses the CSV and writes the cache atomically; the others (and later runs) load it, which
  /// keeps start-up short when 96 processes start at once.
  ///
  /// The cache is named by the XXH64 hash of the CSV's bytes (`ContentHash`): a ratings file
  /// changed in place, even to one of the same size and modification time, is parsed again
  /// (and its bad rows reported), never answered from the cache of its former content.
  public static func read(_ path: String, cacheDirectory: String?) throws -> Ratings {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DatasetError.missing("MovieLens ratings.csv", path: path)
    }
    guard let cacheDirectory else { return try parse(data, path: path) }
    let hash = data.withUnsafeBytes { ContentHash.xxh64($0) }
    let cached = (cacheDirectory as NSString).appendingPathComponent("ratings-xxh64-\(ContentHash.hex(hash)).bin")
    if let bytes = FileManager.default.contents(atPath: cached), let r = decodeCache(bytes) { return r }
    let r = try parse(data, path: path)
    // The cache only saves time: a folder that cannot be made is not an error here.
    if (try? FileSystem.createDirectory(cacheDirectory, for: "create the dataset cache folder")) != nil {
      publishCache(encodeCache(r), at: cached)
    }
    return r
  }

  static let cacheMagic: [UInt8] = Array("PDML".utf8)

  static func encodeCache(_ r: Ratings) -> Data {
    var d = Data(cacheMagic)
    let header: [UInt64] = [UInt64(r.ratings.count), UInt64(r.userCount), UInt64(r.itemCount)]
    header.withUnsafeBytes { d.append(contentsOf: $0) }
    r.users.withUnsafeBytes { d.append(contentsOf: $0) }
    r.items.withUnsafeBytes { d.append(contentsOf: $0) }
    r.ratings.withUnsafeBytes { d.append(contentsOf: $0) }
    return d
  }

  /// nil unless the cache is exactly well-formed (a bad cache is rebuilt, never trusted).
  static func decodeCache(_ d: Data) -> Ratings? {
    let b = [UInt8](d)
    guard b.count >= 28, Array(b[0..<4]) == cacheMagic else { return nil }
    func u64(_ o: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[o + $1]) << (8 * $1) } }
    let n = u64(4)
    let users = u64(12)
    let items = u64(20)
    guard n > 0, n < 1 << 32, users > 0, items > 0, b.count == 28 + 12 * n else { return nil }
    var u = [Int32](repeating: 0, count: n)
    var i = [Int32](repeating: 0, count: n)
    var r = [Float](repeating: 0, count: n)
    b.withUnsafeBytes { raw in
      u.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[28..<(28 + 4 * n)])) }
      i.withUnsafeMutableBytes {
        $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(28 + 4 * n)..<(28 + 8 * n)]))
      }
      r.withUnsafeMutableBytes {
        $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(28 + 8 * n)..<(28 + 12 * n)]))
      }
    }
    guard u.allSatisfy({ $0 >= 0 && Int($0) < users }), i.allSatisfy({ $0 >= 0 && Int($0) < items }) else { return nil }
    return Ratings(users: u, items: i, ratings: r, userCount: users, itemCount: items)
  }

  /// Reads and parses `ratings.csv` without a cache.
  public static func read(_ path: String) throws -> Ratings {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DatasetError.missing("MovieLens ratings.csv", path: path)
    }
    return try parse(data, path: path)
  }

  /// Parses the bytes of `ratings.csv` (header `userId,movieId,rating,timestamp`; lines end in
  /// LF, CRLF or CR); `path` names the file in errors.
  public static func parse(_ data: Data, path: String) throws -> Ratings {
    var rawUsers: [Int] = []
    var rawItems: [Int] = []
    var ratings: [Float] = []
    var lineNumber = 0
    var sawHeader = false
    try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
      var start = 0
      func handle(_ text: Substring) throws {
        lineNumber += 1
        if text.isEmpty { return }
        var line = text
        if !sawHeader {
          sawHeader = true
          if line.first == "\u{FEFF}" { line = line.dropFirst() }
          guard line.hasPrefix("userId,movieId,rating") else {
            throw DatasetError(
              "\(path):\(lineNumber): expected the header 'userId,movieId,rating,timestamp', got \(MessageText.quote(line, limit: 60))"
            )
          }
          return
        }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count >= 3, let u = Int(fields[0]), let m = Int(fields[1]), let r = Float(fields[2]),
          r.isFinite, r >= 0, r <= 10
        else {
          throw DatasetError(
            "\(path):\(lineNumber): bad rating row \(MessageText.quote(line, limit: 80)); expected userId,movieId,rating,timestamp"
          )
        }
        rawUsers.append(u)
        rawItems.append(m)
        ratings.append(r)
      }
      var i = 0
      while i <= bytes.count {
        if i == bytes.count || bytes[i] == 0x0A || bytes[i] == 0x0D {
          let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
          try handle(line[...])
          if i + 1 < bytes.count && bytes[i] == 0x0D && bytes[i + 1] == 0x0A { i += 1 }
          start = i + 1
        }
        i += 1
      }
    }
    guard !ratings.isEmpty else { throw DatasetError("\(path): no ratings after the header", kind: .emptyShard) }
    let userIDs = Array(Set(rawUsers)).sorted()
    let itemIDs = Array(Set(rawItems)).sorted()
    var userIndex: [Int: Int32] = [:]
    var itemIndex: [Int: Int32] = [:]
    for (i, id) in userIDs.enumerated() { userIndex[id] = Int32(i) }
    for (i, id) in itemIDs.enumerated() { itemIndex[id] = Int32(i) }
    return Ratings(
      users: rawUsers.map { userIndex[$0]! }, items: rawItems.map { itemIndex[$0]! }, ratings: ratings,
      userCount: userIDs.count, itemCount: itemIDs.count)
  }

  /// Node `node`'s (train, test) ratings: users dealt round-robin after a seeded shuffle, each
  /// user's ratings split 70:30 by a per-user seeded shuffle.
  static func shard(_ r: Ratings, node: Int, nodes: Int, streams: RandomStreams, trainFraction: Double = 0.7) throws
    -> (RatingSource, RatingSource)
  {
    guard nodes <= r.userCount else {
      throw DatasetError(
        "MovieLens has \(r.userCount) users; cannot give each of \(nodes) nodes at least one", kind: .badSettings)
    }
    var order = Array(0..<r.userCount)
    var rng = streams.stream(.dataSplit)
    rng.shuffle(&order)
    let mine = Set(order.enumerated().filter { $0.offset % nodes == node }.map(\.element))
    var byUser: [Int: [Int]] = [:]
    for i in 0..<r.ratings.count where mine.contains(Int(r.users[i])) { byUser[Int(r.users[i]), default: []].append(i) }
    var train: [Int] = []
    var test: [Int] = []
    for user in byUser.keys.sorted() {
      var rows = byUser[user]!
      var userRNG = streams.stream(.dataSplit, index: UInt64(user) + 1)
      userRNG.shuffle(&rows)
      let cut = Int((trainFraction * Double(rows.count)).rounded())
      train += rows[0..<cut]
      test += rows[cut...]
    }
    func source(_ idx: [Int]) -> RatingSource {
      RatingSource(users: idx.map { r.users[$0] }, items: idx.map { r.items[$0] }, ratings: idx.map { r.ratings[$0] })
    }
    return (source(train), source(test))
  }
}
