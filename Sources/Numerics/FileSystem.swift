#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file operation that failed, as one line: the path, what was being done, and why.
///
/// Foundation's errors print as `Error Domain=NSCocoaErrorDomain Code=516 …`; these print as
/// `runs/x: cannot create the log directory: a file is in the way`.
public struct FileSystemError: Error, CustomStringConvertible, Sendable, Equatable {
  public enum Reason: Sendable, Equatable {
    case notFound
    /// A path component (or the target) is a file where a directory is needed.
    case notADirectory
    case permissionDenied
    case readOnly
    case noSpace
    /// Another errno, by its strerror text.
    case other(String)

    /// The reason for `errno` value `code`.
    public init(errno code: Int32) {
      switch code {
      case ENOENT: self = .notFound
      case ENOTDIR, EEXIST: self = .notADirectory
      case EACCES, EPERM: self = .permissionDenied
      case EROFS: self = .readOnly
      case ENOSPC, EDQUOT: self = .noSpace
      default: self = .other(String(cString: strerror(code)))
      }
    }
  }

  public var path: String
  /// What was being done, e.g. "create the log directory".
  public var action: String
  public var reason: Reason

  public init(path: String, action: String, reason: Reason) {
    self.path = path
    self.action = action
    self.reason = reason
  }

  public var description: String {
    let why: String
    switch reason {
    case .notFound: why = "no such file or directory"
    case .notADirectory: why = "a file is in the way (a directory is needed)"
    case .permissionDenied: why = "permission denied"
    case .readOnly: why = "read-only file system"
    case .noSpace: why = "no space left on the device"
    case .other(let text): why = text
    }
    return "\(path): cannot \(action): \(why)"
  }
}

/// File operations whose failures are `FileSystemError`s, through POSIX calls (errno says
/// exactly what went wrong; Foundation's wrappers of them do not print it readably).
public enum FileSystem {
  /// Creates `path` and any missing parents, like `mkdir -p`; an existing directory is fine.
  public static func createDirectory(_ path: String, for action: String) throws(FileSystemError) {
    guard !path.isEmpty else { throw FileSystemError(path: path, action: action, reason: .notFound) }
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/") {
      prefix += component
      if mkdir(prefix, 0o777) != 0 {
        let code = errno
        var info = stat()
        let isDirectory = stat(prefix, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        if !isDirectory { throw FileSystemError(path: prefix, action: action, reason: .init(errno: code)) }
      }
      prefix += "/"
    }
  }

  /// Writes `bytes` to `path` so that readers and crashes see either the old content or the new,
  /// whole: a temporary file beside it, written, fsync'd, renamed over the target, and the folder
  /// fsync'd (results, checkpoints and weights survive a power cut the moment this returns).
  public static func write(_ bytes: [UInt8], to path: String, for action: String) throws(FileSystemError) {
    let tmp = path + ".\(getpid()).tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw FileSystemError(path: path, action: action, reason: .init(errno: errno)) }
    func fail(_ code: Int32) -> FileSystemError {
      close(fd)
      unlink(tmp)
      return FileSystemError(path: path, action: action, reason: .init(errno: code))
    }
    var written = 0
    while written < bytes.count {
      let n = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + written, bytes.count - written) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { throw fail(n < 0 ? errno : EIO) }
      written += n
    }
    guard fsync(fd) == 0 else { throw fail(errno) }
    close(fd)
    guard rename(tmp, path) == 0 else {
      let code = errno
      unlink(tmp)
      throw FileSystemError(path: path, action: action, reason: .init(errno: code))
    }
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { String(path[..<$0]) } ?? "."
    let dfd = open(folder.isEmpty ? "/" : folder, O_RDONLY)
    if dfd >= 0 {
      _ = fsync(dfd)
      close(dfd)
    }
  }

  private static func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
      return Glibc.write(fd, p, n)
    #else
      return Darwin.write(fd, p, n)
    #endif
  }
}
