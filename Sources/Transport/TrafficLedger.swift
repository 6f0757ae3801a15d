/// Bytes and messages exchanged with each peer, split into data (parameter values) and metadata
/// (headers, indices, seeds), as decentralizepy splits `total_data_per_n` and `total_meta`.
public struct TrafficLedger: Sendable, Codable, Equatable {
  public struct Counters: Sendable, Equatable, Codable {
    public var data = 0
    public var metadata = 0
    public var messages = 0
    public init() {}
  }

  public private(set) var sentByPeer: [Int: Counters] = [:]
  public private(set) var receivedByPeer: [Int: Counters] = [:]
  public private(set) var totalSent = Counters()
  public private(set) var totalReceived = Counters()

  public init() {}

  public mutating func recordSent(to peer: Int, data: Int, metadata: Int) {
    sentByPeer[peer, default: Counters()].add(data: data, metadata: metadata)
    totalSent.add(data: data, metadata: metadata)
  }

  public mutating func recordReceived(from peer: Int, data: Int, metadata: Int) {
    receivedByPeer[peer, default: Counters()].add(data: data, metadata: metadata)
    totalReceived.add(data: data, metadata: metadata)
  }
}

extension TrafficLedger.Counters {
  mutating func add(data: Int, metadata: Int) {
    self.data += data
    self.metadata += metadata
    messages += 1
  }
}
