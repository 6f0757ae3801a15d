#if canImport(Glibc)
  import CSystem
#endif

/// Allocator settings for the node process.
public enum MemoryTuning {
  /// Every round allocates and frees a handful of model-sized buffers (≈ 0.9 MB for MovieLens):
  /// received frames, decoded shares, the encoded frame. glibc serves blocks over 128 KiB with
  /// fresh mmap pages, so each round paid for page faults and kernel zeroing of every buffer
  /// (a third of a node's CPU in a profile of the 16-node benchmark). Keeping such blocks in the
  /// heap lets the next round reuse the same pages. The heap keeps what the peak round used.
  public static func keepLargeBlocksInHeap() {
    #if canImport(Glibc)
      _ = mallopt(M_MMAP_THRESHOLD, 256 << 20)
      _ = mallopt(M_TRIM_THRESHOLD, 512 << 20)
    #endif
  }
}
