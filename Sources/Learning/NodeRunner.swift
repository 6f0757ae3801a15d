import Foundation
import Numerics
import Transport

/// What the `peerd` command line asks for, before any file is read.
public struct NodeRequest: Sendable {
  public var configPath: String
  public var graphPath: String
  public var graphFormat: String
  public var ipPath: String?
  public var machineID: Int?
  public var rank: Int?
  public var uid: Int?
  public var procsPerMachine: Int?
  public var machines: Int?
  public var iterations: Int?
  public var logDir: String
  public var testAfter: Int?
  public var trainEvaluateAfter: Int?
  public var logLevel: String?
  public var resetOptimizer: Bool?
  /// Continue from `<log dir>/<uid>.checkpoint`.
  public var resume = false
  /// The launcher's tag for this run. Without one the node was started on its own, and writes
  /// the run's manifest into its log dir when there is none yet.
  public var runID: String?

  public init(
    configPath: String, graphPath: String, graphFormat: String = "auto", ipPath: String? = nil, machineID: Int? = nil,
    rank: Int? = nil, uid: Int? = nil, procsPerMachine: Int? = nil, machines: Int? = nil, iterations: Int? = nil,
    logDir: String = ".", testAfter: Int? = nil, trainEvaluateAfter: Int? = nil, logLevel: String? = nil,
    resetOptimizer: Bool? = nil, resume: Bool = false, runID: String? = nil
  ) {
    self.configPath = configPath
    self.graphPath = graphPath
    self.graphFormat = graphFormat
    self.ipPath = ipPath
    self.machineID = machineID
    self.rank = rank
    self.uid = uid
    self.procsPerMachine = procsPerMachine
    self.machines = machines
    self.iterations = iterations
    self.logDir = logDir
    self.testAfter = testAfter
    self.trainEvaluateAfter = trainEvaluateAfter
    self.logLevel = logLevel
    self.resetOptimizer = resetOptimizer
    self.resume = resume
    self.runID = runID
  }
}

/// Runs one node from a request and maps its end to an exit code (docs/operations.md):
/// 0 done, 1 runtime fault, 2 bad input found before any socket opened, 3 stopped by SIGTERM or
/// SIGINT, 4 trained alone for more than `isolation_limit` of its rounds.
public enum NodeRunner {
  public static func run(_ request: NodeRequest) -> Int32 {
    StopSignal.install()
    let plan: NodePlan
    let parts: NodeFactory.Parts
    let earlier: String?
    do {
      try prepareLogDir(request.logDir)
      plan = try NodePlan.resolve(request)
      parts = try NodeFactory.prepare(plan)
      if request.resume { try CheckpointPreview.check(plan: plan, parts: parts) }
      earlier = try archiveEarlierAttempt(plan)
    } catch {
      StandardError.write("peerd: \(error)")
      return 2
    }
    let log = NodeLogHandler.logger(uid: plan.uid, path: plan.logPath, level: plan.logLevel)
    if request.runID == nil {
      do { try writeManifest(request, plan) } catch { log.warning("could not write the run manifest: \(error)") }
    }
    if let earlier { log.info("started again\(request.resume ? " with --resume" : ""); \(earlier)") }
    for warning in plan.warnings { log.warning("\(warning)") }
    if !plan.security.isCurve && !isLoopback(plan.bindEndpoint) {
      log.warning(
        "plaintext on \(plan.bindEndpoint): anyone who can reach this port can send frames as any uid; set [COMMUNICATION] security = curve on networks others can reach"
      )
    }
    let transport: ZMQTransport
    do {
      // The largest valid frame is a header plus one (index, value) pair per parameter; ZeroMQ
      // drops the connection of a peer that sends more, before a byte of it is buffered.
      transport = try ZMQTransport(
        uid: plan.uid, bindEndpoint: plan.bindEndpoint, addresses: plan.endpoints,
        connectNow: plan.neighbours + plan.heartbeatPeers, security: plan.security,
        maxMessageBytes: Int64(WireHeader.size + 8 * parts.model.parameterCount + 8))
    } catch {
      log.error("\(error)")
      StandardError.write("peerd: node \(plan.uid): \(error)")
      return 1
    }
    let node = NodeFactory.makeNode(plan, parts: parts, transport: transport, clock: SystemClock(), log: log)
    if request.resume {
      do { try node.resume() } catch {
        log.error("\(error)")
        StandardError.write("peerd: node \(plan.uid): \(error)")
        node.link.close()
        return 2
      }
    }
    do {
      return try node.run().exitCode
    } catch {
      log.error("node failed: \(error)")
      StandardError.write("peerd: node \(plan.uid) failed: \(error)")
      node.link.close()
      return 1
    }
  }

  /// A node started on its own (no launcher, no `--run-id`) records the run in its log dir,
  /// unless a manifest is there already (another node of the run wrote it first).
  static func writeManifest(_ request: NodeRequest, _ plan: NodePlan) throws {
    guard !FileManager.default.fileExists(atPath: RunManifest.path(in: request.logDir)) else { return }
    let config = try RunManifest.copyInput(
      request.configPath, as: (request.configPath as NSString).lastPathComponent, into: request.logDir)
    var m = RunManifest(
      writer: "peerd", commandLine: CommandLine.arguments, config: config,
      graph: try RunManifest.copyInput(
        request.graphPath, as: "graph-" + (request.graphPath as NSString).lastPathComponent, into: request.logDir))
    if let ip = request.ipPath {
      m.ip = try RunManifest.copyInput(ip, as: "ip-" + (ip as NSString).lastPathComponent, into: request.logDir)
    }
    (m.gitCommit, m.gitDirty) = RunManifest.gitState(
      of: (CommandLine.arguments[0] as NSString).deletingLastPathComponent)
    m.nodes = plan.totalNodes
    m.procsPerMachine = request.procsPerMachine
    m.algorithm = plan.algorithm
    m.sharing = plan.sharing.name
    m.dataset = plan.dataset.name
    m.iterations = plan.iterations
    try m.writeIfAbsent(runDirectory: request.logDir)
  }

  /// Whether a bind endpoint listens on loopback only.
  static func isLoopback(_ endpoint: String) -> Bool {
    let host = endpoint.replacingOccurrences(of: "tcp://", with: "").split(separator: ":").dropLast().joined(
      separator: ":")
    return host.hasPrefix("127.") || host == "localhost" || host == "[::1]" || host == "::1"
  }

  /// Creates the log dir and proves it writable before anything else happens.
  static func prepareLogDir(_ dir: String) throws {
    try FileSystem.createDirectory(dir, for: "create the log directory")
    let probe = (dir as NSString).appendingPathComponent(".peerd-write-test-\(getpid())")
    guard FileManager.default.createFile(atPath: probe, contents: Data("ok".utf8)) else {
      throw PlanError("\(dir): the log dir is not writable")
    }
    try? FileManager.default.removeItem(atPath: probe)
  }

  /// A restart never overwrites what an earlier run of this uid left in the log dir: its results
  /// and final weights are renamed `<uid>_results.prev<N>.json` and `<uid>_model.prev<N>.bin`
  /// (the log and the events file are appended to). Returns a note for the log, or nil.
  static func archiveEarlierAttempt(_ plan: NodePlan) throws -> String? {
    let fm = FileManager.default
    guard let results = plan.resultsPath, fm.fileExists(atPath: results) else { return nil }
    let dir = (results as NSString).deletingLastPathComponent
    var n = 1
    func archived(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
    while fm.fileExists(atPath: archived("\(plan.uid)_results.prev\(n).json")) { n += 1 }
    do {
      try fm.moveItem(atPath: results, toPath: archived("\(plan.uid)_results.prev\(n).json"))
      if let weights = plan.weightsPath, fm.fileExists(atPath: weights) {
        try fm.moveItem(atPath: weights, toPath: archived("\(plan.uid)_model.prev\(n).bin"))
      }
    } catch {
      throw PlanError("\(dir): cannot keep the earlier run's results (\(error.localizedDescription))")
    }
    return "the earlier run's results are kept as \(plan.uid)_results.prev\(n).json"
  }
}
