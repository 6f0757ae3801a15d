import Foundation
import Numerics

/// A model's parameter vector on disk: checkpoints and final weights.
///
/// Format (little-endian): magic "PDMW" (4 bytes), version u32 = 1, parameter count u64, name
/// length u32, the model name in UTF-8, then `count` float32 values.
public enum ModelFile {
  static let magic: [UInt8] = Array("PDMW".utf8)

  public static func save(_ model: any Model, to path: String) throws {
    var out = magic
    func u32(_ v: UInt32) { for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) } }
    func u64(_ v: UInt64) { for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }
    u32(1)
    u64(UInt64(model.parameterCount))
    let name = Array(model.name.utf8)
    u32(UInt32(name.count))
    out += name
    let start = out.count
    out += [UInt8](repeating: 0, count: model.parameterCount * 4)
    for i in 0..<model.parameterCount {
      let bits = model.parameters[i].bitPattern
      for k in 0..<4 { out[start + 4 * i + k] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k))) }
    }
    let tmp = path + ".tmp"
    guard FileManager.default.createFile(atPath: tmp, contents: Data(out)) else {
      throw ModelError("\(path): cannot write the weights file")
    }
    _ = try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.moveItem(atPath: tmp, toPath: path)
  }

  public static func load(into model: any Model, from path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ModelError("\(path): cannot read the weights file")
    }
    let b = [UInt8](data)
    func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[o + $1]) << (8 * UInt32($1)) } }
    func u64(_ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[o + $1]) << (8 * UInt64($1)) } }
    guard b.count >= 20, Array(b[0..<4]) == magic else {
      throw ModelError("\(path): not a peerd weights file (bad magic)")
    }
    guard u32(4) == 1 else { throw ModelError("\(path): unsupported weights file version \(u32(4))") }
    let count = u64(8)
    let nameLength = Int(u32(16))
    guard b.count >= 20 + nameLength else { throw ModelError("\(path): truncated header") }
    let name = String(decoding: b[20..<(20 + nameLength)], as: UTF8.self)
    guard count == UInt64(model.parameterCount) else {
      throw ModelError(
        "\(path): holds \(count) parameters of \(name), the model \(model.name) has \(model.parameterCount)")
    }
    let start = 20 + nameLength
    guard b.count == start + Int(count) * 4 else {
      throw ModelError("\(path): expected \(start + Int(count) * 4) bytes, file has \(b.count) (truncated or padded)")
    }
    for i in 0..<Int(count) { model.parameters[i] = Float(bitPattern: u32(start + 4 * i)) }
  }
}
