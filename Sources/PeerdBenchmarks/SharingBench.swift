import ArgumentParser
import Foundation
import Learning
import Models
import Numerics
import Sharing
import Transport

/// CPU seconds of this thread: other processes on the machine (the benchmark often shares it
/// with builds) do not inflate them the way they inflate wall-clock time.
func cpuNow() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// What each sharing method costs a node per round, beside full sharing, in one run: making the
/// share, framing it, decoding and accepting four neighbours' frames, and averaging them in, on
/// the MNIST logistic regression and on the FEMNIST CNN; and the bytes of one message.
///
/// Five strategy instances stand for a node and its four neighbours of a 4-regular graph. Every
/// round each model takes a small step of noise (standing in for training: the pixels of
/// MNIST's border never move, as in a real run), the node frames its share for the four, and
/// receives one frame from each neighbour, exactly as the runtime does (`WireCodec` header,
/// `ShareCodec`, the strategy's `receive` and `average`).
struct SharingBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sharing",
    abstract: "Per-round cost and bytes per message of every sharing method, beside full sharing.")

  @Option(help: "Rounds timed per method on the logistic regression (a tenth of them on the CNN).")
  var rounds = 200

  @Option(help: "Only the methods whose label contains this text.")
  var method: String?

  @Option(help: "Only the models whose label contains this text (LogisticRegression, CNN).")
  var model: String?

  struct Method {
    let label: String
    let settings: SharingSettings
  }

  static let methods: [Method] = {
    func s(_ name: String, _ configure: (inout SharingSettings) -> Void = { _ in }) -> SharingSettings {
      var settings = SharingSettings(name: name, seed: 90)
      configure(&settings)
      return settings
    }
    return [
      Method(label: "Sharing (full)", settings: s("Sharing")),
      Method(label: "Sharing + zstd", settings: s("Sharing") { $0.compress = true }),
      Method(label: "PartialModel α=0.1", settings: s("PartialModel") { $0.alpha = 0.1 }),
      Method(
        label: "PartialModel α=0.1 acc",
        settings: s("PartialModel") {
          $0.alpha = 0.1
          $0.accumulation = true
        }),
      Method(
        label: "PartialModel α=0.1 zstd",
        settings: s("PartialModel") {
          $0.alpha = 0.1
          $0.compress = true
        }),
      Method(label: "RandomAlpha", settings: s("RandomAlpha")),
      Method(label: "TopK α=0.1", settings: s("TopK") { $0.alpha = 0.1 }),
      Method(label: "SubSampling α=0.1", settings: s("SubSampling") { $0.alpha = 0.1 }),
      Method(label: "Quantize 8-bit", settings: s("Quantize") { $0.bits = 8 }),
      Method(
        label: "Quantize 8-bit zstd",
        settings: s("Quantize") {
          $0.bits = 8
          $0.compress = true
        }),
      Method(label: "Quantize 4-bit", settings: s("Quantize") { $0.bits = 4 }),
      Method(label: "Quantize 1-bit", settings: s("Quantize") { $0.bits = 1 }),
      Method(
        label: "Quantize 8-bit α=0.1",
        settings: s("Quantize") {
          $0.bits = 8
          $0.alpha = 0.1
        }),
      Method(label: "Choco (f32 TopK α=0.1)", settings: s("Choco") { $0.alpha = 0.1 }),
    ]
  }()

  func run() throws {
    // As in peerd: model-sized buffers stay in the heap instead of fresh mmap pages each round.
    MemoryTuning.keepLargeBlocksInHeap()
    print("BLAS: \(BLAS.threadReport)")
    var rng = Xoshiro256(seed: 1)
    let models: [(String, ModelSettings, Int)] = [
      ("MNIST LogisticRegression", ModelSettings(name: "LogisticRegression", inputShape: [784], classes: 10), rounds),
      ("FEMNIST CNN", ModelSettings(name: "CNN", inputShape: [1, 28, 28], classes: 62), max(4, rounds / 10)),
    ]
    for (label, settings, rounds) in models where model.map({ label.localizedCaseInsensitiveContains($0) }) ?? true {
      let model = try ModelRegistry.make(settings, rng: &rng)
      let p = model.parameterCount
      print("")
      print("\(label), P = \(p), degree 4; median CPU µs per round over \(rounds) rounds (after 2 warm-up rounds)")
      print(
        pad("method", 26) + lpad("make", 9) + lpad("encode", 9) + lpad("decode×4", 10) + lpad("average", 9)
          + lpad("total", 9) + lpad("×full", 7) + lpad("B/msg", 11) + lpad("data", 10) + lpad("meta", 8)
          + lpad("×full B", 9))
      var fullTotal = 0.0
      var fullBytes = 0
      for method in Self.methods where self.method.map({ method.label.localizedCaseInsensitiveContains($0) }) ?? true {
        let r = try Self.measure(method.settings, initial: model.parameters, rounds: rounds)
        if method.label == "Sharing (full)" {
          fullTotal = r.total
          fullBytes = r.bytes
        }
        print(
          pad(method.label, 26) + lpad(us(r.make), 9) + lpad(us(r.encode), 9) + lpad(us(r.decode), 10)
            + lpad(us(r.average), 9) + lpad(us(r.total), 9)
            + lpad(fullTotal > 0 ? String(format: "%.2f", r.total / fullTotal) : "", 7) + lpad("\(r.bytes)", 11)
            + lpad("\(r.data)", 10) + lpad("\(r.bytes - r.data)", 8)
            + lpad(fullBytes > 0 ? String(format: "%.3f", Double(r.bytes) / Double(fullBytes)) : "", 9))
      }
    }
  }

  private func us(_ seconds: Double) -> String { String(format: "%.0f", seconds * 1e6) }

  struct Result {
    var make = 0.0, encode = 0.0, decode = 0.0, average = 0.0
    var total: Double { make + encode + decode + average }
    var bytes = 0, data = 0
  }

  static func frame(_ share: Share, sender: Int, round: Int) -> SharedBytes {
    let size = ShareCodec.payloadSize(of: share)
    var header = WireHeader(kind: .model, sender: UInt32(sender))
    header.encoding = PayloadEncoding(rawValue: share.encoding.rawValue)!
    header.degree = 4
    header.round = UInt64(round)
    header.parameterCount = UInt32(share.parameterCount)
    header.elementCount = UInt32(share.count)
    header.payloadLength = UInt64(size)
    return SharedBytes(count: WireHeader.size + size) { raw in
      WireCodec.writeHeader(header, into: raw)
      ShareCodec.encodePayload(share, into: UnsafeMutableRawBufferPointer(rebasing: raw[WireHeader.size...]))
    }
  }

  /// The runtime's zero-copy frame of the whole model (PeerLink.encodeDenseModel).
  static func denseFrame(_ parameters: FloatBuffer, sender: Int, round: Int) -> SharedBytes {
    var header = WireHeader(kind: .model, sender: UInt32(sender))
    header.encoding = .rawFloat32
    header.degree = 4
    header.round = UInt64(round)
    header.parameterCount = UInt32(parameters.count)
    header.elementCount = UInt32(parameters.count)
    header.payloadLength = UInt64(parameters.count * 4)
    return SharedBytes(count: WireHeader.size + parameters.count * 4) { raw in
      WireCodec.writeHeader(header, into: raw)
      (raw.baseAddress! + WireHeader.size).copyMemory(from: parameters.pointer, byteCount: parameters.count * 4)
    }
  }

  static func decode(_ frame: SharedBytes, parameterCount: Int, into strategy: any SharingStrategy) throws -> Share {
    let header = try WireCodec.decodeHeader(frame.bytes)
    let share = try ShareCodec.decode(
      encoding: header.encoding.rawValue, payload: UnsafeRawBufferPointer(rebasing: frame.bytes[WireHeader.size...]),
      elements: Int(header.elementCount), parameterCount: parameterCount,
      declaredParameterCount: Int(header.parameterCount), backing: frame)
    return try strategy.receive(share, from: Int(header.sender))
  }

  static func measure(_ base: SharingSettings, initial: FloatBuffer, rounds: Int) throws -> Result {
    let p = initial.count
    let neighbours = [1, 2, 3, 4]
    var strategies: [any SharingStrategy] = []
    var models: [FloatBuffer] = []
    for uid in 0...4 {
      var s = base
      s.uid = uid
      strategies.append(try SharingRegistry.make(s, initialModel: initial))
      let m = FloatBuffer(count: p)
      m.copy(from: initial)
      models.append(m)
    }
    // A few steps of noise, reused, off MNIST's border pixels for the logistic regression.
    var rng = Xoshiro256(seed: 2)
    let steps = (0..<4).map { _ in
      FloatBuffer(
        (0..<p).map { i -> Float in
          let pixel = i % 784
          let (r, c) = (pixel / 28, pixel % 28)
          let border = p == 7850 && i < 7840 && !(r >= 4 && r < 24 && c >= 4 && c < 24)
          return border ? 0 : rng.uniform(-0.002, 0.002)
        })
    }
    let aggregator = Aggregator(parameterCount: p)
    var times: [[Double]] = [[], [], [], []]
    var result = Result()
    var bytes = 0
    var dataBytes = 0
    var messages = 0
    for round in 1...(rounds + 2) {
      for (i, m) in models.enumerated() {
        BLAS.axpy(count: p, alpha: 1, x: steps[(i + round) % steps.count].pointer, y: m.pointer)
      }
      // The neighbours' frames for node 0 (their cost is not node 0's).
      var inbound: [SharedBytes] = []
      for j in neighbours {
        if strategies[j].sharesWholeModel {
          inbound.append(denseFrame(models[j], sender: j, round: round))
        } else {
          for group in strategies[j].makeShares(of: models[j], round: round, recipients: [0]) {
            inbound.append(frame(group.share, sender: j, round: round))
          }
        }
      }
      let me = strategies[0]
      let start = cpuNow()
      var groups: [OutgoingShare] = []
      if !me.sharesWholeModel { groups = me.makeShares(of: models[0], round: round, recipients: neighbours) }
      let made = cpuNow()
      var outbound: [(SharedBytes, [Int], Int)] = []
      if me.sharesWholeModel {
        outbound = [(denseFrame(models[0], sender: 0, round: round), neighbours, 4 * p)]
      } else {
        outbound = groups.map { (frame($0.share, sender: 0, round: round), $0.recipients, $0.share.dataBytes) }
      }
      let encoded = cpuNow()
      var received: [(sender: Int, share: Share, weight: Double)] = []
      for f in inbound {
        let share = try decode(f, parameterCount: p, into: me)
        received.append((Int(try WireCodec.decodeHeader(f.bytes).sender), share, 0.2))
      }
      let decoded = cpuNow()
      _ = me.average(own: models[0], selfWeight: 0.2, received: received, using: aggregator)
      let averaged = cpuNow()
      if round > 2 {
        times[0].append(made - start)
        times[1].append(encoded - made)
        times[2].append(decoded - encoded)
        times[3].append(averaged - decoded)
      }
      // Node 0's frames reach the neighbours (keeps CHOCO copies in step; not node 0's time).
      for (f, recipients, data) in outbound {
        for j in recipients { _ = try decode(f, parameterCount: p, into: strategies[j]) }
        if round > 2 {
          bytes += f.count * recipients.count
          dataBytes += data * recipients.count
          messages += recipients.count
        }
      }
    }
    result.bytes = bytes / messages
    result.data = dataBytes / messages
    func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
    result.make = median(times[0])
    result.encode = median(times[1])
    result.decode = median(times[2])
    result.average = median(times[3])
    return result
  }
}
