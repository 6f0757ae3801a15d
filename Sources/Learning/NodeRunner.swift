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

  public init(
    configPath: String, graphPath: String, graphFormat: String = "auto", ipPath: String? = nil, machineID: Int? = nil,
    rank: Int? = nil, uid: Int? = nil, procsPerMachine: Int? = nil, machines: Int? = nil, iterations: Int? = nil,
    logDir: String = ".", testAfter: Int? = nil, trainEvaluateAfter: Int? = nil, logLevel: String? = nil,
    resetOptimizer: Bool? = nil
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
  }
}

/// Runs one node from a request and maps failures to exit codes (DESIGN decision 7):
/// 2 for bad input found before any socket opened, 1 for a runtime fault, 0 for success.
public enum NodeRunner {
  public static func run(_ request: NodeRequest) -> Int32 {
    let plan: NodePlan
    let parts: NodeFactory.Parts
    do {
      try FileSystem.createDirectory(request.logDir, for: "create the log directory")
      plan = try NodePlan.resolve(request)
      parts = try NodeFactory.prepare(plan)
    } catch {
      StandardError.write("peerd: \(error)")
      return 2
    }
    let log = NodeLogHandler.logger(uid: plan.uid, path: plan.logPath, level: plan.logLevel)
    for warning in plan.warnings { log.warning("\(warning)") }
    let transport: ZMQTransport
    do {
      // The largest valid frame is a header plus one (index, value) pair per parameter; ZeroMQ
      // drops the connection of a peer that sends more, before a byte of it is buffered.
      transport = try ZMQTransport(
        uid: plan.uid, bindEndpoint: plan.bindEndpoint,
        peers: plan.endpoints.filter { plan.neighbours.contains($0.key) },
        maxMessageBytes: Int64(WireHeader.size + 8 * parts.model.parameterCount + 8))
    } catch {
      log.error("\(error)")
      StandardError.write("peerd: node \(plan.uid): \(error)")
      return 1
    }
    let node = NodeFactory.makeNode(plan, parts: parts, transport: transport, log: log)
    do {
      try node.run()
      return 0
    } catch {
      log.error("node failed: \(error)")
      StandardError.write("peerd: node \(plan.uid) failed: \(error)")
      node.link.close()
      return 1
    }
  }
}
