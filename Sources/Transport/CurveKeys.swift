import CZeroMQ

/// A CURVE key pair (libzmq's elliptic-curve security, Curve25519), as Z85 text: 40 printable
/// characters each, which is how the key files and the public-key list store them.
public struct CurveKeyPair: Sendable, Equatable {
  public let publicKey: String
  public let secretKey: String

  /// A fresh key pair from libzmq (libsodium underneath).
  public static func generate() throws(TransportError) -> CurveKeyPair {
    var pub = [CChar](repeating: 0, count: 41)
    var sec = [CChar](repeating: 0, count: 41)
    guard zmq_curve_keypair(&pub, &sec) == 0 else {
      throw .socketFailed(
        "zmq_curve_keypair: this libzmq has no CURVE support (\(String(cString: zmq_strerror(zmq_errno()))))")
    }
    return CurveKeyPair(publicKey: Z85.string(pub), secretKey: Z85.string(sec))
  }

  public init(publicKey: String, secretKey: String) {
    self.publicKey = publicKey
    self.secretKey = secretKey
  }

  /// The public key that belongs to a Z85 secret key, or nil when it is not one.
  public static func publicKey(forSecret secret: String) -> String? {
    guard Z85.decode(secret) != nil else { return nil }
    var pub = [CChar](repeating: 0, count: 41)
    guard zmq_curve_public(&pub, secret) == 0 else { return nil }
    return Z85.string(pub)
  }
}

/// Z85 (ZeroMQ RFC 32) for 32-byte keys.
public enum Z85 {
  /// The 32 key bytes, or nil unless `text` is exactly 40 Z85 characters.
  public static func decode(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count == 40, chars.allSatisfy({ alphabet.contains($0) }) else { return nil }
    var out = [UInt8](repeating: 0, count: 32)
    let ok = chars.withUnsafeBufferPointer { src -> Bool in
      var terminated = Array(src) + [0]
      return terminated.withUnsafeMutableBufferPointer { t in
        t.baseAddress!.withMemoryRebound(to: CChar.self, capacity: 41) { zmq_z85_decode(&out, $0) != nil }
      }
    }
    return ok ? out : nil
  }

  static let alphabet = Set(
    Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8))

  static func string(_ cString: [CChar]) -> String {
    String(decoding: cString.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// How a transport authenticates its peers.
public enum TransportSecurity: Sendable, Equatable {
  /// No authentication or encryption (local experiments): anyone who can reach a port can send
  /// frames claiming any identity.
  case plaintext
  /// CURVE: frames are encrypted, and a connection is admitted only when its client key is in
  /// `peers` and the routing identity it presents is that key's uid.
  case curve(own: CurveKeyPair, peers: [Int: String])

  public var isCurve: Bool {
    if case .curve = self { return true }
    return false
  }
}
