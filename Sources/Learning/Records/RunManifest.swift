import Foundation
import Numerics

/// `<run dir>/manifest.json`: what a run was started from, so a run folder can be understood (and
/// started again) without the shell history that made it.
///
/// Written once at the start by the launcher (`peerctl manifest`, called by
/// scripts/launch_cluster.sh and scripts/slurm/peerd.sbatch) or by a peerd started on its own
/// without `--run-id`; the launcher adds `end` when the run is over. The config, graph and IP file
/// are copied into `<run dir>/inputs/`, so an edit after the start does not change what the run
/// says it ran. `peerctl report` names a node whose results still say `running` after `end` as lost,
/// and `peerctl watch` reads `machines` to know which hosts it should see.
public struct RunManifest: Codable, Sendable, Equatable {
  public static let fileName = "manifest.json"
  public static let inputsFolder = "inputs"

  /// One input file: where it was, and its copy (relative to the run directory).
  public struct Input: Codable, Sendable, Equatable {
    public var source: String
    public var copy: String
    public init(source: String, copy: String) {
      self.source = source
      self.copy = copy
    }
  }

  /// A machine of the IP file and the folder its nodes write (`machine<id>` in the run directory
  /// for a local or shared one; the remote path with `--gather`).
  public struct Machine: Codable, Sendable, Equatable {
    public var id: Int
    public var host: String
    public var folder: String
    /// Whether the folder is only on that host (results come back with `--gather` at the end).
    public var remoteOnly: Bool
    public init(id: Int, host: String, folder: String, remoteOnly: Bool) {
      self.id = id
      self.host = host
      self.folder = folder
      self.remoteOnly = remoteOnly
    }

    enum CodingKeys: String, CodingKey {
      case id, host, folder
      case remoteOnly = "remote_only"
    }
  }

  public struct End: Codable, Sendable, Equatable {
    public var time: String
    public var unixTime: Double
    /// The launcher's exit status (docs/operations.md).
    public var status: Int32
    public init(status: Int32, at date: Date = Date()) {
      time = RunManifest.timestamp(date)
      unixTime = date.timeIntervalSince1970
      self.status = status
    }

    enum CodingKeys: String, CodingKey {
      case time
      case unixTime = "unix_time"
      case status
    }
  }

  /// `launch_cluster.sh`, `peerd.sbatch`, `peerd`.
  public var writer: String
  public var commandLine: [String]
  public var workingDirectory: String
  public var host: String
  public var startTime: String
  public var startUnixTime: Double
  /// `git rev-parse HEAD` of the peerd checkout, and whether tracked files differed from it.
  public var gitCommit: String?
  public var gitDirty: Bool?
  public var config: Input
  public var graph: Input?
  public var ip: Input?
  public var nodes: Int?
  public var procsPerMachine: Int?
  public var machines: [Machine]
  public var algorithm: String?
  public var sharing: String?
  public var dataset: String?
  public var iterations: Int?
  public var end: End?

  public init(
    writer: String, commandLine: [String], config: Input, graph: Input? = nil, ip: Input? = nil, start: Date = Date()
  ) {
    self.writer = writer
    self.commandLine = commandLine
    workingDirectory = FileManager.default.currentDirectoryPath
    host = ProcessInfo.processInfo.hostName
    startTime = RunManifest.timestamp(start)
    startUnixTime = start.timeIntervalSince1970
    self.config = config
    self.graph = graph
    self.ip = ip
    machines = []
  }

  enum CodingKeys: String, CodingKey {
    case writer
    case commandLine = "command_line"
    case workingDirectory = "working_directory"
    case host
    case startTime = "start_time"
    case startUnixTime = "start_unix_time"
    case gitCommit = "git_commit"
    case gitDirty = "git_dirty"
    case config, graph, ip, nodes
    case procsPerMachine = "procs_per_machine"
    case machines, algorithm, sharing, dataset, iterations, end
  }

  static func timestamp(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: date)
  }

  // MARK: - Files

  public static func path(in runDirectory: String) -> String {
    (runDirectory as NSString).appendingPathComponent(fileName)
  }

  /// The manifest of `runDirectory`, or nil when it has none.
  public static func read(runDirectory: String) throws -> RunManifest? {
    let path = path(in: runDirectory)
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    do {
      return try JSONDecoder().decode(RunManifest.self, from: data)
    } catch {
      throw RecordError.unreadable(path, "not a peerd run manifest (\(error))")
    }
  }

  public func encoded() throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var data = try e.encode(self)
    data.append(0x0A)
    return data
  }

  /// Writes (or replaces) the manifest atomically.
  public func write(runDirectory: String) throws {
    try FileSystem.write([UInt8](encoded()), to: Self.path(in: runDirectory), for: "write the run manifest")
  }

  /// Writes the manifest only if the folder has none yet (created exclusively: of several peerd
  /// started on one folder at once, one writes it). Returns whether it wrote.
  @discardableResult
  public func writeIfAbsent(runDirectory: String) throws -> Bool {
    let path = Self.path(in: runDirectory)
    guard !FileManager.default.fileExists(atPath: path) else { return false }
    // Written whole beside it, then linked into place: link(2) fails if the name exists, so a
    // reader never sees a half-written manifest and only one writer wins.
    let tmp = path + ".\(getpid()).new"
    try FileSystem.write([UInt8](encoded()), to: tmp, for: "write the run manifest")
    defer { unlink(tmp) }
    return link(tmp, path) == 0
  }

  /// Copies `source` to `<run dir>/inputs/<name>` and returns the record of it.
  public static func copyInput(_ source: String, as name: String, into runDirectory: String) throws -> Input {
    let folder = (runDirectory as NSString).appendingPathComponent(inputsFolder)
    let relative = (inputsFolder as NSString).appendingPathComponent(name)
    let target = (runDirectory as NSString).appendingPathComponent(relative)
    guard let data = FileManager.default.contents(atPath: source) else {
      throw RecordError.unreadable(source, "cannot read it to copy it into the run directory")
    }
    // FileSystem.write goes through a temporary name of this process's own: nodes of one run may
    // copy the same file at once.
    try FileSystem.createDirectory(folder, for: "create the run's inputs folder")
    try FileSystem.write([UInt8](data), to: target, for: "copy an input into the run directory")
    let absolute = source.hasPrefix("/") ? source : FileManager.default.currentDirectoryPath + "/" + source
    return Input(source: (absolute as NSString).standardizingPath, copy: relative)
  }

  /// The commit of the git checkout holding `directory`, and whether tracked files differ from
  /// it; nils when it is not a checkout or git is not installed.
  public static func gitState(of directory: String) -> (commit: String?, dirty: Bool?) {
    guard let head = git(["rev-parse", "HEAD"], in: directory), head.count == 40 else { return (nil, nil) }
    let status = git(["status", "--porcelain", "--untracked-files=no"], in: directory)
    return (head, status.map { !$0.isEmpty })
  }

  static func git(_ args: [String], in directory: String) -> String? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["git", "-C", directory] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    p.standardInput = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// A record file that cannot be read or written, named with why.
public enum RecordError: Error, CustomStringConvertible, Equatable {
  case unreadable(String, String)
  case noRun(String, String)

  public var description: String {
    switch self {
    case .unreadable(let path, let why), .noRun(let path, let why):
      return "\(path): \(why)"
    }
  }
}
