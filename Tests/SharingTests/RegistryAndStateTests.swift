import Numerics
import XCTest

@testable import Sharing

final class RegistryAndStateTests: XCTestCase {
  /// Every canonical name and alias resolves, to a strategy reporting its canonical name.
  func testEveryRegisteredNameResolves() throws {
    let model = FloatBuffer(randomVector(50, seed: 1))
    for entry in SharingRegistry.registry.entries {
      for name in [entry.name] + entry.aliases {
        let strategy = try SharingRegistry.make(SharingSettings(name: name, alpha: 0.5), initialModel: model)
        XCTAssertEqual(strategy.name, entry.name, name)
      }
    }
    XCTAssertEqual(
      SharingRegistry.names, ["Sharing", "PartialModel", "RandomAlpha", "SubSampling", "TopK", "Quantize", "Choco"])
    // Case, `-` and `_` do not matter, as for every registry.
    XCTAssertEqual(
      try SharingRegistry.make(SharingSettings(name: "partial_model"), initialModel: model).name, "PartialModel")
    XCTAssertTrue(try SharingRegistry.make(SharingSettings(name: "Full"), initialModel: model).sharesWholeModel)
    XCTAssertEqual(
      (try SharingRegistry.make(SharingSettings(name: "Choco"), initialModel: model) as! Quantize).bits, 32)
    XCTAssertEqual(
      (try SharingRegistry.make(SharingSettings(name: "Quantize"), initialModel: model) as! Quantize).bits, 8)
  }

  /// `partial_averaging` reaches every float32 method's average (Quantize has its own path);
  /// unset, SubSampling's random senders stand for all neighbours and the rest renormalize.
  func testPartialAveragingReachesEveryFloatMethod() throws {
    let model = FloatBuffer(randomVector(50, seed: 1))
    for name in ["Sharing", "PartialModel", "RandomAlpha", "SubSampling", "TopK"] {
      var settings = SharingSettings(name: name, alpha: 0.5)
      XCTAssertEqual(
        try SharingRegistry.make(settings, initialModel: model).partialAveraging,
        name == "SubSampling" ? .neighbourMean : .renormalize, name)
      settings.partialAveraging = .fillLocal
      XCTAssertEqual(try SharingRegistry.make(settings, initialModel: model).partialAveraging, .fillLocal, name)
      settings.partialAveraging = .renormalize
      XCTAssertEqual(try SharingRegistry.make(settings, initialModel: model).partialAveraging, .renormalize, name)
    }
  }

  func testUnknownNamesAndBadSettingsAreTypedErrors() {
    let model = FloatBuffer(count: 4)
    XCTAssertThrowsError(try SharingRegistry.make(SharingSettings(name: "Nope"), initialModel: model)) {
      XCTAssertEqual(
        $0 as? RegistryError,
        RegistryError(
          kind: "[SHARING] sharing_class", name: "Nope",
          supported: ["Sharing", "PartialModel", "RandomAlpha", "SubSampling", "TopK", "Quantize", "Choco"]))
      XCTAssertTrue("\($0)".contains("supported: Sharing, PartialModel"))
    }
    let bad: [(SharingSettings, String)] = [
      (SharingSettings(name: "PartialModel", alpha: 0), "alpha"),
      (SharingSettings(name: "RandomAlpha", alphaList: [0.5, 1.5]), "alpha_list"),
      (SharingSettings(name: "Quantize", bits: 2), "bits"),
      (SharingSettings(name: "Quantize", blockSize: 0), "block_size"),
      (SharingSettings(name: "Quantize", stepSize: 2), "step_size"),
      (SharingSettings(name: "TopK", metadataCap: 0), "metadata_cap"),
    ]
    for (settings, key) in bad {
      XCTAssertThrowsError(try SharingRegistry.make(settings, initialModel: model)) {
        guard case .invalidSetting(key: key, message: _) = $0 as? SharingError else { return XCTFail("\($0)") }
      }
    }
  }

  /// Each strategy's state survives a checkpoint: a restored copy shares exactly what the
  /// original shares from then on.
  func testCheckpointRestoresEveryStrategysState() throws {
    let n = 400
    for name in ["Sharing", "PartialModel", "RandomAlpha", "SubSampling", "TopK", "Quantize"] {
      var s = SharingSettings(name: name, alpha: 0.2, seed: 3, uid: 1)
      s.accumulation = true
      let initial = FloatBuffer(randomVector(n, seed: 1))
      let a = try SharingRegistry.make(s, initialModel: initial)
      var x = randomVector(n, seed: 2)
      for round in 1...3 {
        for i in 0..<n { x[i] += Float(round) * 0.01 * Float(i % 7) }
        _ = a.makeShares(of: FloatBuffer(x), round: round, recipients: [0, 2])
        _ = a.average(own: FloatBuffer(x), selfWeight: 1, received: [], using: Aggregator(parameterCount: n))
      }
      let state = a.checkpointState()
      let b = try SharingRegistry.make(s, initialModel: FloatBuffer(count: n))
      try b.restoreState(state)
      XCTAssertEqual(b.checkpointState().count, state.count, name)
      for i in 0..<n { x[i] -= 0.02 * Float(i % 5) }
      let fromA = a.makeShares(of: FloatBuffer(x), round: 4, recipients: [0, 2])
      let fromB = b.makeShares(of: FloatBuffer(x), round: 4, recipients: [0, 2])
      if name == "Quantize" {
        // A restored CHOCO node cannot know what its recipients hold: it sends a keyframe.
        XCTAssertEqual(fromB.map(\.share.publicCopy?.keyframe), [true])
      } else {
        XCTAssertEqual(fromA.map(\.share), fromB.map(\.share), name)
      }
    }
  }

  func testCorruptOrForeignCheckpointsAreRefusedWhole() throws {
    let n = 10
    let p = try PartialModel(
      SharingSettings(name: "PartialModel", alpha: 0.5), initialModel: FloatBuffer(randomVector(n, seed: 1)))
    let state = p.checkpointState()
    let before = p.checkpointState()
    for cut in 0..<state.count {
      XCTAssertThrowsError(try p.restoreState(Array(state[0..<cut])), "cut \(cut)")
    }
    XCTAssertThrowsError(try p.restoreState(state + [0])) {
      guard case .checkpointCorrupt = $0 as? SharingError else { return XCTFail("\($0)") }
    }
    XCTAssertEqual(p.checkpointState(), before, "a refused checkpoint changes nothing")
    let topK = try TopK(SharingSettings(name: "TopK", alpha: 0.5), initialModel: FloatBuffer(count: n))
    XCTAssertThrowsError(try topK.restoreState(state)) {
      XCTAssertEqual($0 as? SharingError, .checkpointMismatch(expected: "TopK", found: "PartialModel"))
    }
    let bigger = try PartialModel(
      SharingSettings(name: "PartialModel", alpha: 0.5), initialModel: FloatBuffer(count: n + 1))
    XCTAssertThrowsError(try bigger.restoreState(state)) {
      guard case .checkpointCorrupt = $0 as? SharingError else { return XCTFail("\($0)") }
    }
    let quantize = try Quantize(SharingSettings(name: "Quantize"), parameterCount: n)
    let choco = quantize.checkpointState()
    for cut in 0..<choco.count { XCTAssertThrowsError(try quantize.restoreState(Array(choco[0..<cut]))) }
  }

  func testZstdRoundTripAndStrictFrames() throws {
    let data = (0..<10_000).map { UInt8($0 % 17) }
    let packed = try XCTUnwrap(data.withUnsafeBytes { ZstdCompressor().compress([$0]) })
    XCTAssertLessThan(packed.count, data.count / 10)
    XCTAssertEqual(packed.withUnsafeBytes { ZstdCompressor.decompress($0, exactSize: data.count) }, data)
    XCTAssertNil(packed.withUnsafeBytes { ZstdCompressor.decompress($0, exactSize: data.count - 1) })
    XCTAssertNil((packed + [0]).withUnsafeBytes { ZstdCompressor.decompress($0, exactSize: data.count) })
    XCTAssertNil(Array(packed.dropLast()).withUnsafeBytes { ZstdCompressor.decompress($0, exactSize: data.count) })
    // Two parts make the frame of their concatenation.
    let parts = data.withUnsafeBytes { raw in
      ZstdCompressor().compress([
        UnsafeRawBufferPointer(rebasing: raw[0..<3000]), UnsafeRawBufferPointer(rebasing: raw[3000...]),
      ])
    }
    XCTAssertEqual(try XCTUnwrap(parts).withUnsafeBytes { ZstdCompressor.decompress($0, exactSize: data.count) }, data)
  }

  /// Quantization errors are within half a step (8 and 4 bits); 1 bit keeps the sign and the
  /// mean magnitude of each block.
  func testQuantizationErrorBounds() {
    let v = randomVector(1000, seed: 3)
    var scales: [Float] = []
    var codes: [UInt8] = []
    for bits in [8, 4] {
      let q = QuantizedValues.quantize(count: 1000, bits: bits, blockSize: 100, scales: &scales, codes: &codes) {
        v[$0]
      }
      for k in 0..<1000 { XCTAssertLessThanOrEqual(abs(q.value(at: k) - v[k]), q.scales[k / 100] / 2 * 1.0001) }
    }
    let one = QuantizedValues.quantize(count: 1000, bits: 1, blockSize: 100, scales: &scales, codes: &codes) { v[$0] }
    for k in 0..<1000 { XCTAssertEqual(one.value(at: k) >= 0, v[k] >= 0) }
    XCTAssertEqual(one.scales[0], v[0..<100].reduce(0) { $0 + abs($1) } / 100, accuracy: 1e-6)
    let zeros = QuantizedValues.quantize(count: 5, bits: 4, blockSize: 8, scales: &scales, codes: &codes) { _ in 0 }
    XCTAssertEqual(zeros.dequantized(), [0, 0, 0, 0, 0])
    XCTAssertNil(zeros.validate())
  }
}
