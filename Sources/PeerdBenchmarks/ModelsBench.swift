import ArgumentParser
import Foundation
import Learning
import Models
import Numerics

struct ModelsBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "models",
    abstract:
      "Single-thread train-step throughput at batch 16 beside PyTorch's, and sgemm through BLAS next to a naive loop.",
    discussion:
      "PyTorch is measured in the same run (scripts/bench/torch_models.py) when it is importable: .venv-torch "
      + "(scripts/setup_torch.sh), $PEERD_TORCH_PYTHON, or python3. Otherwise its column quotes issue 12's figures "
      + "and says so.")

  @Option(help: "Batch size.")
  var batch: Int = 16

  @Option(help: "Only the models whose name contains this text, and no sgemm table (for profiling one model).")
  var model: String?

  @Flag(help: "Also print each layer's forward and backward time for the layered models.")
  var layers = false

  func run() throws {
    print("BLAS: \(BLAS.threadReport)")
    print("")
    let torch = TorchReference.measure(batch: batch, only: model)
    print("train step = computeGradients + SGD step, batch \(batch), best of 5")
    print(
      pad("model", 24) + lpad("params", 10) + lpad("µs/step", 12) + lpad("samples/s", 12)
        + (torch.figures.isEmpty ? lpad("PyTorch (quoted)", 18) : lpad("PyTorch µs/step", 17) + lpad("peerd ×", 10)))
    var rng = Xoshiro256(seed: 1)
    let cases: [(String, ModelSettings, String)] = [
      ("LogisticRegression", ModelSettings(name: "LogisticRegression", inputShape: [784], classes: 10), "50–85 k/s"),
      ("FEMNIST CNN", ModelSettings(name: "CNN", inputShape: [1, 28, 28], classes: 62), "~700/s"),
      // The same network with every convolution on im2col: what the Winograd path gains.
      (
        "FEMNIST CNN, im2col",
        ModelSettings(name: "CNN", inputShape: [1, 28, 28], classes: 62, convolution: .im2col), "~700/s"
      ),
      ("MatrixFactorization", ModelSettings(name: "MatrixFactorization", users: 610, items: 9724), "~25 k/s"),
    ]
    for (label, settings, reference) in cases where model.map({ label.localizedCaseInsensitiveContains($0) }) ?? true {
      let model = try ModelRegistry.make(settings, rng: &rng)
      let sgd = try OptimizerRegistry.make(OptimizerSettings(learningRate: 0.01), parameterCount: model.parameterCount)
      var b = Batch()
      b.count = batch
      if settings.name == "MatrixFactorization" {
        for _ in 0..<batch {
          b.indices += [Int32(rng.nextInt(below: 610)), Int32(rng.nextInt(below: 9724))]
          b.targets.append(Float(1 + rng.nextInt(below: 5)))
        }
      } else {
        b.inputShape = settings.inputShape
        b.inputs = (0..<(batch * settings.inputShape.reduce(1, *))).map { _ in rng.uniform(0, 1) }
        b.labels = (0..<batch).map { _ in Int32(rng.nextInt(below: settings.classes)) }
      }
      let iterations = model.parameterCount > 1_000_000 ? 20 : 2000
      let seconds = measure(iterations: iterations) {
        _ = model.computeGradients(b)
        sgd.step(model)
      }
      var line =
        pad(label, 24) + lpad("\(model.parameterCount)", 10) + lpad(String(format: "%.1f", seconds * 1e6), 12)
        + lpad(String(format: "%.0f", Double(batch) / seconds), 12)
      if torch.figures.isEmpty {
        line += lpad(reference, 18)
      } else if let us = torch.figures[label.replacingOccurrences(of: ", im2col", with: "")] {
        line += lpad(String(format: "%.1f", us), 17) + lpad(String(format: "%.1f", us / (seconds * 1e6)), 10)
      }
      print(line)
      if layers, let network = model as? Sequential { printLayers(network, b) }
    }
    print(torch.note)
    guard model == nil else { return }
    print("")
    print("sgemm C[M×N] = A[M×K]·B[K×N], GFLOP/s, best of 5")
    print(pad("M×K×N", 16) + lpad("BLAS", 10) + lpad("BLAS (B as N×K, Trans)", 24) + lpad("naive loop", 12))
    for (m, k, n) in [(16, 784, 10), (16, 3136, 512), (512, 512, 512)] {
      let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
      let bm = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
      var c = [Float](repeating: 0, count: m * n)
      let flops = 2.0 * Double(m * k * n)
      let iterations = max(1, Int(2e8 / flops))
      let blas = measure(iterations: iterations) {
        BLAS.gemm(.none, .none, m: m, n: n, k: k, a: a, lda: k, b: bm, ldb: n, c: &c, ldc: n)
      }
      let blasT = measure(iterations: iterations) {
        BLAS.gemm(.none, .transpose, m: m, n: n, k: k, a: a, lda: k, b: bm, ldb: k, c: &c, ldc: n)
      }
      let naive = measure(repeats: 2, iterations: max(1, iterations / 50)) {
        a.withUnsafeBufferPointer { ap in
          bm.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
              for i in 0..<m {
                for j in 0..<n {
                  var s: Float = 0
                  for p in 0..<k { s += ap[i * k + p] * bp[p * n + j] }
                  cp[i * n + j] = s
                }
              }
            }
          }
        }
      }
      print(
        pad("\(m)×\(k)×\(n)", 16) + lpad(String(format: "%.1f", flops / blas / 1e9), 10)
          + lpad(String(format: "%.1f", flops / blasT / 1e9), 24)
          + lpad(String(format: "%.2f", flops / naive / 1e9), 12))
    }
  }

  private func printLayers(_ network: Sequential, _ b: Batch) {
    let profile = network.profileLayers(b, repeats: 20)
    for entry in profile {
      print(
        "    " + pad(entry.layer, 32) + "forward " + lpad(String(format: "%.0f µs", entry.forwardSeconds * 1e6), 10)
          + "   backward " + lpad(String(format: "%.0f µs", entry.backwardSeconds * 1e6), 10))
    }
  }
}

/// PyTorch's train steps for the same models, measured in this run by
/// scripts/bench/torch_models.py, or why they could not be.
struct TorchReference {
  /// µs per step by model label.
  var figures: [String: Double] = [:]
  var note: String

  struct Line: Decodable {
    var model: String
    var torch: String
    var usPerStep: Double
    enum CodingKeys: String, CodingKey {
      case model, torch
      case usPerStep = "us_per_step"
    }
  }

  static func measure(batch: Int, only: String?) -> TorchReference {
    let quoted =
      "PyTorch: quoted column: issue 12's figures, measured separately with PyTorch 2.13 CPU on this kind of machine"
    guard let script = CheckoutFile.find("scripts/bench/torch_models.py") else {
      return TorchReference(note: quoted + " (scripts/bench/torch_models.py not found)")
    }
    var pythons: [String] = []
    if let p = ProcessInfo.processInfo.environment["PEERD_TORCH_PYTHON"] { pythons.append(p) }
    if let venv = CheckoutFile.find(".venv-torch/bin/python") { pythons.append(venv) }
    pythons.append("python3")
    for python in pythons {
      guard let (status, output) = Subprocess.run(python, [script, "\(batch)", only ?? ""]), status == 0 else {
        continue
      }
      let lines = output.split(separator: "\n").compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
      guard let first = lines.first else { continue }
      var r = TorchReference(
        note:
          "PyTorch \(first.torch) measured in this run (\(python), one thread, best of 5); peerd × = PyTorch µs/step ÷ peerd's; PyTorch's MatrixFactorization is decentralizepy's (dense embedding gradients)"
      )
      for l in lines { r.figures[l.model] = l.usPerStep }
      return r
    }
    return TorchReference(note: quoted + "; PyTorch is not importable here (scripts/setup_torch.sh installs it)")
  }
}
