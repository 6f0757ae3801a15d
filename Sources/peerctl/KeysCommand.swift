import ArgumentParser
import Foundation
import Learning

/// `peerctl keys`: CURVE key pairs for every node of a run (docs/operations.md, "Keys").
struct KeysCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keys",
    abstract: "Generate a CURVE key pair per node: <dir>/<uid>.key (secret, mode 600) and <dir>/public_keys.json.",
    discussion:
      "Point [COMMUNICATION] curve_keys at the folder and set security = curve. Copy each machine's own "
      + "<uid>.key files and the whole public_keys.json to it; never copy secret keys you do not need.")

  @Option(help: "Number of peers (uids 0..<n).")
  var nodes: Int

  @Flag(help: "Also a key for a FedAvg server (uid n).")
  var server = false

  @Option(name: [.short, .customLong("output")], help: "The folder to write (created; existing keys are refused).")
  var output: String

  func validate() throws {
    guard nodes >= 1 && nodes <= 65_535 else { throw ValidationError("--nodes must be in 1…65535, got \(nodes)") }
  }

  func run() throws {
    let list = (output as NSString).appendingPathComponent(CurveKeyFiles.publicList)
    if FileManager.default.fileExists(atPath: list) {
      throw fail("keys: \(list) exists; keys are never overwritten (choose another folder)")
    }
    let uids = Array(0..<(nodes + (server ? 1 : 0)))
    do {
      try CurveKeyFiles.generate(uids: uids, into: output)
    } catch {
      throw fail("keys: \(error)")
    }
    print("wrote \(uids.count) key pairs to \(output) (\(CurveKeyFiles.publicList) and <uid>.key)")
  }
}
