/// A dataset that cannot be used: names the file (or setting) and what was expected.
public struct DatasetError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }

  static func missing(_ what: String, path: String) -> DatasetError {
    DatasetError(
      "\(path): \(what) not found. Get the datasets with scripts/download_datasets.sh, or point $PEERD_DATA or the config's train_dir/test_dir at them"
    )
  }
}
