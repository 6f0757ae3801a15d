#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Unbuffered writes to standard error for diagnostics that must survive a killed process.
///
/// `print` is block-buffered when piped, so a line printed just before a SIGKILL is lost.
/// This writes straight to file descriptor 2.
public enum StandardError {
  public static func write(_ line: String) {
    var text = line
    if !text.hasSuffix("\n") { text += "\n" }
    text.utf8CString.withUnsafeBufferPointer { buffer in
      _ = fdWrite(2, buffer.baseAddress!, buffer.count - 1)
    }
  }

  /// Writes to standard output unbuffered (progress lines read by the launcher).
  public static func writeOut(_ line: String) {
    var text = line
    if !text.hasSuffix("\n") { text += "\n" }
    text.utf8CString.withUnsafeBufferPointer { buffer in
      _ = fdWrite(1, buffer.baseAddress!, buffer.count - 1)
    }
  }

  private static func fdWrite(_ fd: Int32, _ pointer: UnsafePointer<CChar>, _ count: Int) -> Int {
    #if canImport(Glibc)
      return Glibc.write(fd, pointer, count)
    #else
      return Darwin.write(fd, pointer, count)
    #endif
  }
}
