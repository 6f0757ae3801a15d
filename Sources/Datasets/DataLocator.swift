import Foundation

/// Where data lives: one rule for code, tests and configs.
///
/// An absolute path is used as is. A relative one is looked up in `$PEERD_DATA`, then `./data`,
/// then `../shared/data` (relative to the working directory), then itself.
public enum DataLocator {
  public static var searchRoots: [String] {
    var roots: [String] = []
    if let env = ProcessInfo.processInfo.environment["PEERD_DATA"], !env.isEmpty { roots.append(env) }
    roots.append("data")
    roots.append("../shared/data")
    return roots
  }

  /// The first existing location of `path`, or nil.
  public static func resolve(_ path: String) -> String? {
    let fm = FileManager.default
    if path.hasPrefix("/") { return fm.fileExists(atPath: path) ? path : nil }
    for root in searchRoots {
      let candidate = (root as NSString).appendingPathComponent(path)
      if fm.fileExists(atPath: candidate) { return candidate }
    }
    return fm.fileExists(atPath: path) ? path : nil
  }
}
