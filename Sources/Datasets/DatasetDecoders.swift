import Foundation

/// The dataset readers' decoders on bytes in memory, without files or caches: what the fuzz
/// harness (Sources/Fuzzing) drives. Each checks every count it reads against the bytes
/// present before it allocates for it, and fails with a `DatasetError`.
public enum DatasetDecoders {
  /// An IDX file as peerd reads MNIST: gunzipped first when it starts with gzip's magic (the
  /// output bounded by the size the IDX header declares), then an image file (magic 0x803) or
  /// a label file (0x801) checked against its length. Returns the number of samples.
  @discardableResult
  public static func idx(_ data: Data, path: String = "<idx>") throws -> Int {
    let bytes = Gzip.isGzip(data) ? try IDX.decompress(data, path: path) : [UInt8](data)
    return try bytes.withUnsafeBytes { b in
      if b.count >= 4 && b[3] == 1 { return try IDX.labels(b, path).count }
      return try IDX.imageHeader(b, path).count
    }
  }

  /// One LEAF JSON file of FEMNIST samples (784 pixels in [0, 1], labels below 62), every
  /// user kept. Returns the number of samples.
  @discardableResult
  public static func leafFemnist(_ data: Data, path: String = "<leaf.json>") throws -> Int {
    let users = try LEAFReader.parse(data, path: path, classes: 62, keep: { _ in true })
    return try LEAFReader.source(users, kind: .femnist, path: path).count
  }

  /// MovieLens `ratings.csv`. Returns the number of ratings.
  @discardableResult
  public static func movieLens(_ data: Data, path: String = "ratings.csv") throws -> Int {
    try MovieLensReader.parse(data, path: path).ratings.count
  }

  /// The binary MovieLens cache; nil when it is not exactly well-formed (then it is rebuilt).
  public static func movieLensCache(_ data: Data) -> Int? { MovieLensReader.decodeCache(data)?.ratings.count }

  /// The cache bytes `ratings.csv` would be stored as (fuzz seeds for `movieLensCache`).
  public static func movieLensCacheBytes(_ csv: Data) throws -> Data {
    MovieLensReader.encodeCache(try MovieLensReader.parse(csv, path: "ratings.csv"))
  }

  /// A gzip file of `bytes`, for test fixtures and fuzz seeds (peerd itself only reads gzip).
  public static func gzip(_ bytes: [UInt8]) -> [UInt8] { Gzip.compress(bytes) }
}
