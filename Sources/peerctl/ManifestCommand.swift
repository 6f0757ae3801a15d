import ArgumentParser
import Config
import Foundation
import Learning
import Topology

/// `peerctl manifest`: the run folder's record of what started it, for launchers.
struct ManifestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "manifest",
    abstract:
      "Write RUN_DIR/manifest.json and copy the config, graph and IP file into RUN_DIR/inputs (launchers call it).",
    discussion:
      "scripts/launch_cluster.sh and scripts/slurm/peerd.sbatch call it before starting any node, with their own "
      + "command line after '--', and again with --ended STATUS when the run is over. A peerd started without "
      + "--run-id writes one itself into its log dir when there is none.")

  @Argument(help: "The run directory.")
  var runDirectory: String

  @Option(help: "INI config file.")
  var config: String?
  @Option(help: "Graph file.")
  var graph: String?
  @Option(help: "IP-address JSON.")
  var ip: String?
  @Option(help: "Processes per machine.")
  var procsPerMachine: Int?
  @Option(help: "Overrides [NODE] iterations, as the nodes are told.")
  var iterations: Int?
  @Option(help: "Who starts the run (launch_cluster.sh, peerd.sbatch).")
  var writer: String = "peerctl"
  @Option(help: "A machine id reached through --remote-cmd (not this host); repeatable.")
  var remote: [Int] = []
  @Option(help: "With --gather: the folder remote machines write on their own host (their machine<id>/ is under it).")
  var remoteLogDir: String?
  @Option(help: "Mark the run as over, with the launcher's exit status (the rest of the manifest is kept).")
  var ended: Int32?

  @Argument(parsing: .postTerminator, help: "The launcher's command line, after '--'.")
  var command: [String] = []

  func validate() throws {
    if ended == nil && config == nil { throw ValidationError("give --config (or --ended STATUS to close a run)") }
  }

  func run() throws {
    do {
      if let ended {
        guard var m = try RunManifest.read(runDirectory: runDirectory) else {
          throw RecordError.noRun(runDirectory, "no \(RunManifest.fileName) to mark as ended")
        }
        m.end = RunManifest.End(status: ended)
        try m.write(runDirectory: runDirectory)
        return
      }
      try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
      try Self.manifest(
        run: runDirectory, config: config!, graph: graph, ip: ip, procsPerMachine: procsPerMachine,
        iterations: iterations,
        writer: writer, command: command, remote: Set(remote), remoteLogDir: remoteLogDir
      ).write(runDirectory: runDirectory)
    } catch {
      throw fail("manifest: \(error)")
    }
  }

  static func manifest(
    run: String, config: String, graph: String?, ip: String?, procsPerMachine: Int?, iterations: Int?, writer: String,
    command: [String], remote: Set<Int>, remoteLogDir: String?
  ) throws -> RunManifest {
    var used: Set<String> = []
    func copy(_ path: String, role: String) throws -> RunManifest.Input {
      var name = (path as NSString).lastPathComponent
      if used.contains(name) { name = "\(role)-\(name)" }
      used.insert(name)
      return try RunManifest.copyInput(path, as: name, into: run)
    }
    let cfg = try RunConfiguration.load(path: config)
    let plan = try NodePlan.fromConfig(cfg, configPath: config, uid: 0, totalNodes: 1)
    var m = RunManifest(
      writer: writer, commandLine: command, config: try copy(config, role: "config"),
      graph: try graph.map { try copy($0, role: "graph") }, ip: try ip.map { try copy($0, role: "ip") })
    (m.gitCommit, m.gitDirty) = RunManifest.gitState(
      of: ((CommandLine.arguments[0] as NSString).deletingLastPathComponent as NSString).standardizingPath)
    m.algorithm = plan.algorithm
    m.sharing = plan.sharing.name
    m.dataset = plan.dataset.name
    m.iterations = iterations ?? plan.iterations
    m.procsPerMachine = procsPerMachine
    if let graph { m.nodes = try Graph.read(path: graph).nodeCount }
    if let ip, let data = FileManager.default.contents(atPath: ip) {
      m.machines = try AddressBook.parseHosts(data, path: ip).enumerated().map { id, host in
        let far = remote.contains(id)
        let folder = far && remoteLogDir != nil ? "\(remoteLogDir!)/machine\(id)" : "machine\(id)"
        return RunManifest.Machine(id: id, host: host, folder: folder, remoteOnly: far && remoteLogDir != nil)
      }
    }
    return m
  }
}
