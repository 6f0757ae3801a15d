/// A whole run configuration: decentralizepy's sections plus peerd's `[NODE]`.
///
/// Config is a leaf layer: it knows the keys, their types and defaults, but not which classes
/// exist; the Learning layer checks class names against its registries. docs/configuration.md
/// documents every key read here.
public struct RunConfiguration: Sendable {
  public var path: String
  public var dataset: DatasetSection
  public var optimizer: OptimizerSection
  public var train: TrainSection
  public var communication: CommunicationSection
  public var sharing: SharingSection
  public var node: NodeSection
  /// Unknown keys and sections, as `file:line: …` lines. They are warnings, not errors.
  public var warnings: [String]
  /// The parsed file, kept so that later checks (class names against the registries) can name
  /// the line of the key they reject.
  public let document: INIDocument

  public static func load(path: String) throws -> RunConfiguration {
    try RunConfiguration(document: INIDocument.load(path: path))
  }

  public init(document doc: INIDocument) throws {
    path = doc.path
    document = doc
    for required in ["DATASET", "OPTIMIZER_PARAMS", "TRAIN_PARAMS"] where doc.section(required) == nil {
      throw ConfigError(.missing, file: doc.path, section: required, message: "required section is missing")
    }
    var readers: [SectionReader] = []
    func reader(_ name: String) -> SectionReader { SectionReader(document: doc, name: name) }

    var d = reader("DATASET")
    dataset = try DatasetSection(&d)
    var o = reader("OPTIMIZER_PARAMS")
    optimizer = try OptimizerSection(&o)
    var t = reader("TRAIN_PARAMS")
    train = try TrainSection(&t)
    var c = reader("COMMUNICATION")
    communication = try CommunicationSection(&c)
    var s = reader("SHARING")
    sharing = try SharingSection(&s)
    var n = reader("NODE")
    node = try NodeSection(&n)
    readers = [d, o, t, c, s, n]

    let known = Set(readers.map(\.name))
    warnings = doc.sections.filter { !known.contains($0.name) }.map {
      "\(doc.path):\($0.line): unknown section [\(INIDocument.excerpt($0.name, quoted: false))] (ignored)"
    }
    warnings += readers.flatMap { $0.unknownKeyWarnings() }
  }
}

extension RunConfiguration {
  /// An error located at `key` of `section` (at the section header when the key is absent,
  /// e.g. a default that does not fit).
  public func error(_ kind: ConfigError.Kind, section: String, key: String, _ message: String) -> ConfigError {
    ConfigError(
      kind, file: path, line: document.entry(section, key)?.line ?? document.section(section)?.line,
      section: section, key: key, message: message)
  }
}

/// A `*_package` / `*_class` pair such as `decentralizepy.sharing.PartialModel` + `PartialModel`.
/// peerd resolves implementations by class name; the package is kept only for messages.
public struct ClassReference: Sendable, Equatable {
  public var package: String?
  public var className: String

  /// The class, or the package's last component when the class is absent.
  public init?(package: String?, className: String?) {
    if let c = className, !c.isEmpty {
      self.className = c
    } else if let p = package, let last = p.split(separator: ".").last, !last.isEmpty {
      self.className = String(last)
    } else {
      return nil
    }
    self.package = package
  }
}
