/// A dataset that cannot be used: names the file (or setting) and what was expected.
///
/// `kind` tells the classes of problem apart for callers and tests; `description` is the one
/// line the user sees.
public struct DatasetError: Error, CustomStringConvertible, Sendable {
  public enum Kind: Sendable, Equatable {
    /// A file or folder is not there.
    case missing
    /// A file's content breaks its format (counts, magic numbers, fields, values).
    case malformed
    /// A file ends before its declared content does.
    case truncated
    /// A gzip stream that zlib rejects.
    case corruptCompression
    /// A header declares more than the bytes present, or than any dataset holds.
    case tooLarge
    /// A node would get no training (or test) samples.
    case emptyShard
    /// Settings that do not fit the data (more nodes than samples, bad `sizes`, …).
    case badSettings
    /// The cache folder cannot be created or written.
    case cache
  }

  public var kind: Kind
  public var description: String

  public init(_ description: String, kind: Kind = .malformed) {
    self.kind = kind
    self.description = description
  }

  static func missing(_ what: String, path: String) -> DatasetError {
    DatasetError(
      "\(path): \(what) not found. Get the datasets with scripts/download_datasets.sh, or point $PEERD_DATA or the config's train_dir/test_dir at them",
      kind: .missing)
  }
}
