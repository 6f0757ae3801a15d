import Foundation

/// Follows a run as it goes, from the nodes' `<uid>_events.jsonl` files: `peerctl watch` and the
/// launcher's progress display.
///
/// Where the events are: the machines the manifest lists, each in its folder `machine<id>/` of
/// the run directory when that folder is readable here (a local machine, or a shared run
/// directory), else in the launcher's copy of what that machine's agent forwarded
/// (`launcher/machine<id>.events`). A run folder without a manifest is read as it is: every
/// events file under it. A machine with neither is named as not visible.
public final class RunWatch {
  /// One node as its events show it.
  struct Node {
    var uid: Int
    var machine: Int?
    var round = 0
    var iterations: Int?
    var outcome: String?
    var started = false
    /// The latest test figures and the round they are from.
    var test: (round: Int, acc: Double?, loss: Double?, rmse: Double?)?
    /// Recent round ends (wall clock of the node's machine): rates come from them.
    var recent: [(wall: Double, round: Int, bytes: Int)] = []
    var lastWall = 0.0
    /// When this watcher last saw a new event of the node (its own clock).
    var lastSeen = 0.0
  }

  struct Source {
    var machine: Int?
    var follower: EventFollower
  }

  public let directory: String
  public let manifest: RunManifest?
  private var sources: [String: Source] = [:]
  private var nodes: [Int: Node] = [:]
  private var unseen: [String] = []
  private let started = Date()

  public init(directory: String) throws {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
      throw RecordError.noRun(directory, "no such directory")
    }
    self.directory = directory
    manifest = try RunManifest.read(runDirectory: directory)
  }

  /// Reads what was added since the last call and describes the run now.
  public func refresh(now: Date = Date()) -> WatchSnapshot {
    discover()
    let seenAt = now.timeIntervalSince(started)
    for (_, source) in sources.sorted(by: { $0.key < $1.key }) {
      for e in source.follower.poll() { apply(e, machine: source.machine, seenAt: seenAt) }
    }
    return snapshot(now: now)
  }

  /// Finds events files (new nodes appear as they start) and the machines without any.
  private func discover() {
    let fm = FileManager.default
    func eventsFiles(in folder: String) -> [String] {
      guard let names = try? fm.contentsOfDirectory(atPath: folder) else { return [] }
      return names.filter { $0.hasSuffix("_events.jsonl") }.map { (folder as NSString).appendingPathComponent($0) }
    }
    func add(_ path: String, machine: Int?) {
      if sources[path] == nil { sources[path] = Source(machine: machine, follower: EventFollower(path: path)) }
    }
    unseen = []
    guard let manifest, !manifest.machines.isEmpty else {
      if let walker = fm.enumerator(atPath: directory) {
        while let item = walker.nextObject() as? String {
          if item.hasSuffix("_events.jsonl") { add((directory as NSString).appendingPathComponent(item), machine: nil) }
        }
      }
      return
    }
    for m in manifest.machines {
      let local = (directory as NSString).appendingPathComponent("machine\(m.id)")
      let files = eventsFiles(in: local)
      if !files.isEmpty {
        for f in files { add(f, machine: m.id) }
        continue
      }
      let forwarded = Self.forwardedPath(runDirectory: directory, machine: m.id)
      var isDir: ObjCBool = false
      if fm.fileExists(atPath: forwarded) {
        add(forwarded, machine: m.id)
      } else if !m.remoteOnly && fm.fileExists(atPath: local, isDirectory: &isDir) && isDir.boolValue {
        continue  // its folder is here: its nodes have not written yet
      } else {
        unseen.append(
          "machine \(m.id) (\(m.host)): not visible here: no events in \(local)"
            + (m.remoteOnly ? " (its nodes write \(m.folder) on that host)" : "") + " and none forwarded")
      }
    }
  }

  /// Where the launcher keeps the events a remote machine's agent forwards.
  public static func forwardedPath(runDirectory: String, machine: Int) -> String {
    (runDirectory as NSString).appendingPathComponent("launcher/machine\(machine).events")
  }

  private func apply(_ e: NodeEvent, machine: Int?, seenAt: Double) {
    var n = nodes[e.uid] ?? Node(uid: e.uid, machine: machine)
    n.lastSeen = seenAt
    n.lastWall = max(n.lastWall, e.wall)
    switch e.kind {
    case .start:
      n.started = true
      n.outcome = nil
    case .round, .evaluation:
      n.started = true
      n.round = max(n.round, e.round)
      n.iterations = e.iterations ?? n.iterations
      if e.testLoss != nil || e.testAcc != nil || e.testRMSE != nil {
        n.test = (e.round, e.testAcc, e.testLoss, e.testRMSE)
      }
      if e.kind == .round {
        n.recent.append((e.wall, e.round, (e.bytesSent ?? 0)))
        if n.recent.count > 20 { n.recent.removeFirst(n.recent.count - 20) }
      }
    case .end:
      n.outcome = e.outcome ?? "ended"
      n.round = max(n.round, e.round)
    case .peerDown, .peerUp, .rejected, .checkpoint:
      break
    }
    nodes[e.uid] = n
  }

  private func snapshot(now: Date) -> WatchSnapshot {
    let all = nodes.values.sorted { $0.uid < $1.uid }
    var s = WatchSnapshot(directory: directory)
    s.label = manifest.map { m in RunReport.label(algorithm: m.algorithm ?? "", sharing: m.sharing ?? "") }
    s.expectedNodes = manifest?.nodes
    s.machines = manifest?.machines.count
    s.seenNodes = all.count
    s.unseenMachines = unseen
    // FedAvg's run is its server's rounds (uid n, besides the n clients): a client counts only
    // the rounds it was sampled in, and an unsampled one is quiet, not silent.
    let server = manifest?.algorithm == "fedavg" ? manifest?.nodes : nil
    let pacing = server.map { uid in all.filter { $0.uid == uid } } ?? all
    let rounds = pacing.map(\.round).sorted()
    if !rounds.isEmpty {
      s.minRound = rounds.first
      s.medianRound = rounds[rounds.count / 2]
      s.maxRound = rounds.last
    }
    s.iterations = all.compactMap(\.iterations).max() ?? manifest?.iterations
    // Silent: no new event for 5 round times (at least 15 s) while not ended.
    let roundTimes = all.compactMap { n -> Double? in
      guard let a = n.recent.first, let b = n.recent.last, b.round > a.round else { return nil }
      return (b.wall - a.wall) / Double(b.round - a.round)
    }.sorted()
    let typical = roundTimes.isEmpty ? 0 : roundTimes[roundTimes.count / 2]
    let silence = max(15, 5 * typical)
    let elapsed = now.timeIntervalSince(started)
    let wall = now.timeIntervalSince1970
    var rate = 0.0
    var eta: Double?
    for n in all {
      if let outcome = n.outcome {
        s.ended[outcome, default: 0] += 1
        continue
      }
      guard n.started else { continue }
      // Seen for a while by this watcher: its own clock; a first look: the node's wall clock.
      let quiet = elapsed > silence ? elapsed - n.lastSeen : wall - n.lastWall
      let paces = server == nil || n.uid == server
      if quiet > silence && paces {
        s.silent.append(n.uid)
        s.silentFor = max(s.silentFor ?? 0, quiet)
        continue
      }
      s.alive += 1
      if let a = n.recent.first, let b = n.recent.last, b.wall > a.wall {
        rate += Double(b.bytes - a.bytes) / (b.wall - a.wall)
        if paces, let total = n.iterations, b.round > a.round {
          let left = Double(max(0, total - n.round)) * (b.wall - a.wall) / Double(b.round - a.round)
          eta = max(eta ?? 0, left)
        }
      }
    }
    s.megabytesPerSecond = rate / 1e6
    s.etaSeconds = eta
    let tested = all.compactMap(\.test)
    s.regression = tested.contains { $0.rmse != nil }
    let values = tested.compactMap { s.regression ? $0.rmse : $0.acc }
    if !values.isEmpty {
      s.metric = values.reduce(0, +) / Double(values.count)
      s.metricNodes = values.count
      s.metricFirstRound = tested.map(\.round).min()
      s.metricLastRound = tested.map(\.round).max()
    }
    s.rounds = all.map { WatchSnapshot.NodeRound(uid: $0.uid, round: $0.round) }
    let expected = manifest?.nodes ?? all.count
    s.done = !all.isEmpty && all.filter { $0.outcome != nil }.count >= expected
    return s
  }
}
