import Foundation
import Numerics

/// A deterministic in-process network on a virtual clock, for testing the node runtime and the
/// algorithms without sockets, threads racing or sleeps (swift-nio's `EmbeddedEventLoop` is the
/// model).
///
/// Each node runs its real code on its own thread, but only one node runs at a time: a node keeps
/// the turn until it blocks in `receive` (or `Clock.sleep`) with nothing to read, and the
/// scheduler then wakes whichever node has the earliest thing to do (a message arriving, or its
/// timeout expiring), advancing the virtual clock to that moment. Local work takes no virtual
/// time. Ties go to the lowest uid, so a run is a pure function of its inputs: the same test sees
/// the same interleaving, the same timeouts and the same bytes every time.
///
/// Faults are scheduled on the virtual clock: `kill` (the node's next transport call throws and
/// nothing reaches or leaves it, like `kill -9`), `pause` (the node is not scheduled for a while
/// and its messages queue, like SIGSTOP/SIGCONT), `spawn` (a node, or a restart of a killed one,
/// starts at a given time) and `inject` (raw bytes from any identity, like a stranger).
public final class EmbeddedNetwork: @unchecked Sendable {
  // Every mutable field is guarded by `lock`. The scheduler and the node threads hand the turn to
  // each other with semaphores (one per node, one for the scheduler): exactly one of them runs
  // at any time.
  private let lock = NSLock()
  private let schedulerWake = DispatchSemaphore(value: 0)
  private var clock = 0.0
  /// Every incarnation ever spawned; a restarted uid has several, at most one of them alive.
  private var slots: [Slot] = []
  private var events: [ScheduledEvent] = []
  private var eventSequence = 0
  /// Every frame handed to the network, in order (for assertions on what went where).
  private var sent: [SentFrame] = []

  /// Virtual seconds between a send and its arrival.
  public let latency: Double

  public init(latency: Double = 0.001) { self.latency = latency }

  /// One frame a node queued, as the network saw it.
  public struct SentFrame: Sendable {
    public var time: Double
    public var from: Int
    public var to: Int
    public var bytes: Int
    /// The frame's message kind byte (offset 5), or nil for frames shorter than that.
    public var kind: UInt8?
    /// Whether it reached a live mailbox.
    public var delivered: Bool
  }

  /// Guarded by the network's lock; only the thread holding the turn runs node code.
  private final class Slot: @unchecked Sendable {
    let uid: Int
    let incarnation: Int
    var body: (() -> Void)?
    let startAt: Double
    var state: State = .notStarted
    var queue: [(arrival: Double, message: InboundMessage)] = []
    var wakeAt = Double.infinity
    var receiving = false
    var killed = false
    var pausedUntil = -Double.infinity
    let wake = DispatchSemaphore(value: 0)
    init(uid: Int, incarnation: Int, startAt: Double) {
      self.uid = uid
      self.incarnation = incarnation
      self.startAt = startAt
    }
    /// Not killed and not finished (it may not have started yet: like a DEALER's queue towards a
    /// peer that has not bound, messages wait for it).
    var isAlive: Bool { state != .finished && !killed }
  }

  private enum State { case notStarted, running, blocked, finished }

  private struct ScheduledEvent {
    var time: Double
    var sequence: Int
    var action: Action
  }

  private enum Action {
    case kill(Int)
    case pause(Int, until: Double)
    case inject(InboundMessage, to: Int)
  }

  // MARK: - Setting up a run

  /// Registers node `uid` to run `body` on its own thread from virtual time `at`; `body` gets the
  /// node's transport, which is also its clock. Spawning a uid again after its earlier
  /// incarnation was killed is a restart: the new one starts with an empty mailbox.
  public func spawn(_ uid: Int, at time: Double = 0, _ body: @escaping (EmbeddedTransport) -> Void) {
    lock.lock()
    defer { lock.unlock() }
    let slot = Slot(uid: uid, incarnation: slots.count + 1, startAt: time)
    let transport = EmbeddedTransport(uid: uid, incarnation: slot.incarnation, network: self)
    slot.body = { body(transport) }
    slots.append(slot)
  }

  /// Kills `uid` at virtual time `at`: its mailbox is emptied, nothing reaches or leaves it, and
  /// its next transport call throws `TransportError.closed` (its code then unwinds).
  public func kill(_ uid: Int, at time: Double) { schedule(time, .kill(uid)) }

  /// Stops scheduling `uid` from `at` for `duration` seconds; messages to it queue meanwhile.
  public func pause(_ uid: Int, at time: Double, for duration: Double) {
    schedule(time, .pause(uid, until: time + duration))
  }

  /// Delivers raw `bytes` to `uid` at time `at` as if `sender` had sent them.
  public func inject(_ bytes: [UInt8], from sender: Int, to uid: Int, at time: Double) {
    schedule(time, .inject(InboundMessage(sender: sender, bytes: bytes), to: uid))
  }

  /// Keeps `events` sorted latest first, so the next one is `events.last`.
  private func schedule(_ time: Double, _ action: Action) {
    lock.lock()
    eventSequence += 1
    let e = ScheduledEvent(time: time, sequence: eventSequence, action: action)
    var lo = 0
    var hi = events.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if (events[mid].time, events[mid].sequence) > (e.time, e.sequence) { lo = mid + 1 } else { hi = mid }
    }
    events.insert(e, at: lo)
    lock.unlock()
  }

  /// The virtual time.
  public var now: Double {
    lock.lock()
    defer { lock.unlock() }
    return clock
  }

  /// Every frame queued so far.
  public var frames: [SentFrame] {
    lock.lock()
    defer { lock.unlock() }
    return sent
  }

  // MARK: - Running

  /// Runs every spawned node to completion, or until virtual time `limit`, after which the nodes
  /// still running are killed and allowed to unwind. Returns the virtual time at the end. A node
  /// that keeps the turn for `realTimeout` real seconds without blocking stops the test with a
  /// precondition failure: a test must never hang.
  @discardableResult
  public func run(until limit: Double = .infinity, realTimeout: Double = 300) -> Double {
    lock.lock()
    defer { lock.unlock() }
    var limitReached = false
    while true {
      guard let next = nextEvent(limitReached: limitReached) else {
        // Nothing can ever wake the blocked nodes (a wait without deadline): kill them.
        let stuck = slots.filter { $0.state == .blocked && !$0.killed }
        if stuck.isEmpty { break }
        for slot in stuck { kill(slot) }
        continue
      }
      if !limitReached && next.time > limit {
        limitReached = true
        for slot in slots where slot.state != .finished { kill(slot) }
        continue
      }
      clock = max(clock, next.time)
      guard let slot = next.slot else {
        applyDueEvent()
        continue
      }
      if slot.state == .notStarted {
        precondition(
          !slots.contains { $0.uid == slot.uid && $0.isAlive && $0.state != .notStarted },
          "uid \(slot.uid) started while an earlier incarnation is still running")
        start(slot)
      }
      slot.state = .running
      lock.unlock()
      slot.wake.signal()
      let handedBack = schedulerWake.wait(timeout: .now() + realTimeout)
      precondition(handedBack == .success, "embedded node \(slot.uid) ran \(realTimeout) s without blocking")
      lock.lock()
    }
    return clock
  }

  private func start(_ slot: Slot) {
    let thread = Thread { [self] in
      slot.wake.wait()
      lock.lock()
      let body = slot.body!
      slot.body = nil
      lock.unlock()
      body()
      lock.lock()
      slot.state = .finished
      lock.unlock()
      schedulerWake.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
  }

  /// The earliest thing that can happen: a node starting, a message arriving at a node that is
  /// receiving, a timeout expiring, or a scheduled event (slot nil). Ties: events first, then the
  /// lowest uid.
  private func nextEvent(limitReached: Bool) -> (slot: Slot?, time: Double)? {
    var best: (slot: Slot?, time: Double)?
    for slot in slots {
      var t: Double
      switch slot.state {
      case .finished, .running: continue
      case .notStarted:
        if slot.killed { continue }
        t = slot.startAt
      case .blocked:
        t = slot.killed ? clock : slot.wakeAt
        if slot.receiving, let first = slot.queue.first { t = min(t, first.arrival) }
      }
      if !slot.killed { t = max(t, slot.pausedUntil) }
      guard t.isFinite else { continue }
      if let b = best, let bs = b.slot,
        t > b.time || (t == b.time && (slot.uid, slot.incarnation) > (bs.uid, bs.incarnation))
      {
        continue
      }
      best = (slot, t)
    }
    if !limitReached, let e = events.last {
      if best == nil || e.time <= best!.time { best = (nil, max(e.time, clock)) }
    }
    return best
  }

  private func applyDueEvent() {
    guard let event = events.popLast() else { return }
    switch event.action {
    case .kill(let uid): if let slot = alive(uid) { kill(slot) }
    case .pause(let uid, let until): alive(uid)?.pausedUntil = until
    case .inject(let message, let uid): alive(uid)?.queue.append((clock, message))
    }
  }

  /// The incarnation of `uid` that messages and faults reach: the earliest one still alive, so a
  /// restart scheduled for later receives what is sent once the current one has died.
  private func alive(_ uid: Int) -> Slot? { slots.first { $0.uid == uid && $0.isAlive } }

  private func kill(_ slot: Slot) {
    slot.killed = true
    slot.queue.removeAll()
    if slot.state == .notStarted { slot.state = .finished }
  }

  private func slot(_ incarnation: Int) -> Slot { slots[incarnation - 1] }

  // MARK: - What a node's transport and clock call (on the node's own thread, holding the turn)

  func deliver(_ frame: SharedBytes, from incarnation: Int, to uid: Int) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    let source = slot(incarnation)
    guard !source.killed else { return false }
    let kind: UInt8? = frame.count > 5 ? frame.bytes[5] : nil
    let target = alive(uid)
    target?.queue.append((clock + latency, InboundMessage(sender: source.uid, frame: frame)))
    sent.append(
      SentFrame(time: clock, from: source.uid, to: uid, bytes: frame.count, kind: kind, delivered: target != nil))
    // Like a DEALER to a peer that is down, the sender cannot tell that nobody is there; only a
    // uid this network has never heard of is refused.
    return slots.contains { $0.uid == uid }
  }

  func take(_ incarnation: Int, timeout: Double) throws(TransportError) -> InboundMessage? {
    lock.lock()
    defer { lock.unlock() }
    let slot = slot(incarnation)
    guard !slot.killed else { throw .closed }
    if let m = popArrived(slot) { return m }
    guard timeout > 0 else { return nil }
    block(slot, until: clock + timeout, receiving: true)
    if slot.killed { throw .closed }
    return popArrived(slot)
  }

  func sleep(_ incarnation: Int, seconds: Double) {
    lock.lock()
    defer { lock.unlock() }
    let slot = slot(incarnation)
    guard !slot.killed, seconds > 0 else { return }
    block(slot, until: clock + seconds, receiving: false)
  }

  func currentTime() -> Double {
    lock.lock()
    defer { lock.unlock() }
    return clock
  }

  private func popArrived(_ slot: Slot) -> InboundMessage? {
    guard let first = slot.queue.first, first.arrival <= clock else { return nil }
    slot.queue.removeFirst()
    return first.message
  }

  /// Gives the turn back to the scheduler until `until` (or an arrival when `receiving`).
  /// Called with `lock` held; returns with it held.
  private func block(_ slot: Slot, until: Double, receiving: Bool) {
    slot.state = .blocked
    slot.wakeAt = until
    slot.receiving = receiving
    lock.unlock()
    schedulerWake.signal()
    slot.wake.wait()
    lock.lock()
    slot.receiving = false
    slot.wakeAt = .infinity
  }
}

/// One node's end of an `EmbeddedNetwork`; also its clock.
public final class EmbeddedTransport: MessageTransport, Clock, @unchecked Sendable {
  public let localUID: Int
  let incarnation: Int
  unowned let network: EmbeddedNetwork
  public private(set) var drops: [String: Int] = [:]

  init(uid: Int, incarnation: Int, network: EmbeddedNetwork) {
    localUID = uid
    self.incarnation = incarnation
    self.network = network
  }

  @discardableResult
  public func send(_ frame: SharedBytes, to uid: Int) -> Bool {
    network.deliver(frame, from: incarnation, to: uid)
  }

  public func receive(timeout: Double) throws(TransportError) -> InboundMessage? {
    try network.take(incarnation, timeout: timeout)
  }

  public func disconnect(_ uid: Int) {}
  public func close() {}

  /// Every node of the network runs in this one process: its CPU time is no node's.
  public func cpuSeconds() -> Double? { nil }

  public func now() -> Double { network.currentTime() }
  public func sleep(_ seconds: Double) { network.sleep(incarnation, seconds: seconds) }
}
