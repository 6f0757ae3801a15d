import Foundation
import Transport

/// The key files CURVE security reads (written by `peerctl keys`):
///
/// - `<dir>/<uid>.key`: that node's secret key, Z85 (40 characters), readable by its owner only;
/// - `<dir>/public_keys.json`: every node's public key, `{"0": "<Z85>", "1": …}`.
///
/// Each machine needs the secret keys of its own nodes and the whole public list; a node that
/// holds no listed key cannot get a single frame accepted.
public enum CurveKeyFiles {
  public static let publicList = "public_keys.json"

  public static func secretKeyPath(_ dir: String, uid: Int) -> String {
    (dir as NSString).appendingPathComponent("\(uid).key")
  }

  /// Generates key pairs for `uids` into `dir` (created); returns the public keys.
  @discardableResult
  public static func generate(uids: [Int], into dir: String) throws -> [Int: String] {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var publics: [String: String] = [:]
    for uid in uids {
      let pair = try CurveKeyPair.generate()
      let path = secretKeyPath(dir, uid: uid)
      guard
        FileManager.default.createFile(
          atPath: path, contents: Data((pair.secretKey + "\n").utf8), attributes: [.posixPermissions: 0o600])
      else { throw PlanError("\(path): cannot write the secret key") }
      publics[String(uid)] = pair.publicKey
    }
    let data = try JSONSerialization.data(withJSONObject: publics, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: (dir as NSString).appendingPathComponent(publicList)))
    return Dictionary(uniqueKeysWithValues: publics.map { (Int($0.key)!, $0.value) })
  }

  /// CURVE security for `uid`: its own key pair and the public keys of `peers` (all must be listed).
  public static func load(dir: String, uid: Int, peers: [Int]) throws -> TransportSecurity {
    let keyPath = secretKeyPath(dir, uid: uid)
    guard let keyData = FileManager.default.contents(atPath: keyPath) else {
      throw PlanError("\(keyPath): no secret key for node \(uid) (generate keys with peerctl keys)")
    }
    let secret = String(decoding: keyData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let ownPublic = CurveKeyPair.publicKey(forSecret: secret) else {
      throw PlanError("\(keyPath): not a Z85 CURVE secret key (40 characters)")
    }
    let listPath = (dir as NSString).appendingPathComponent(publicList)
    guard let listData = FileManager.default.contents(atPath: listPath) else {
      throw PlanError("\(listPath): the public key list is missing (generate keys with peerctl keys)")
    }
    guard let object = try? JSONSerialization.jsonObject(with: listData) as? [String: Any] else {
      throw PlanError("\(listPath): expected a JSON object mapping uid to a Z85 public key")
    }
    var keys: [Int: String] = [:]
    for (k, v) in object {
      guard let id = Int(k), id >= 0, String(id) == k else { throw PlanError("\(listPath): '\(k)' is not a uid") }
      guard let key = v as? String, Z85.decode(key) != nil else {
        throw PlanError("\(listPath): the key of uid \(id) is not a Z85 CURVE public key (40 characters)")
      }
      keys[id] = key
    }
    guard keys[uid] == ownPublic else {
      throw PlanError("\(listPath): the public key listed for uid \(uid) does not belong to \(keyPath)")
    }
    let missing = peers.filter { keys[$0] == nil }
    guard missing.isEmpty else { throw PlanError("\(listPath): no public key for uid(s) \(missing)") }
    return .curve(own: CurveKeyPair(publicKey: ownPublic, secretKey: secret), peers: keys)
  }
}
