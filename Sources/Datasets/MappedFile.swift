import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A read-only, shared memory map of a file.
///
/// The decoded dataset caches are mapped this way, so the 96 processes of a machine share one
/// copy of the pages in the page cache instead of holding 96 private copies.
public final class MappedFile: @unchecked Sendable {
  // Immutable after init: the mapping is PROT_READ and never changes.
  public let bytes: UnsafeRawBufferPointer
  public let path: String

  public init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw DatasetError("\(path): cannot open (\(String(cString: strerror(errno))))") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw DatasetError("\(path): cannot stat") }
    let size = Int(st.st_size)
    guard size > 0 else {
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      return
    }
    guard let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
      throw DatasetError("\(path): cannot map into memory")
    }
    bytes = UnsafeRawBufferPointer(start: p, count: size)
  }

  deinit {
    if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
  }
}

/// Publishes a cache file atomically: write a temp file named for this process, then rename.
/// Processes that start together each write their own temp file and one rename wins, so a
/// reader never sees a partial cache. Returns false when the file could not be written.
@discardableResult
func publishCache(_ data: Data, at path: String) -> Bool {
  let tmp = path + ".\(getpid()).tmp"
  guard FileManager.default.createFile(atPath: tmp, contents: data) else { return false }
  if rename(tmp, path) != 0 { unlink(tmp) }
  return true
}
