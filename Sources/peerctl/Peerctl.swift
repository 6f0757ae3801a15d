import ArgumentParser

/// `peerctl`: the researcher's and operator's companion to `peerd`.
///
/// Every subcommand is thin: it parses flags and calls the library (Learning, Topology,
/// Datasets). Errors in the files it reads are one line naming the file and exit non-zero.
@main
struct Peerctl: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "peerctl",
    abstract: "Generate graphs, check configs, preview partitions, and report or plot peerd runs.",
    subcommands: [
      GraphCommand.self, GraphInfoCommand.self, HostsCommand.self, CheckCommand.self, PartitionCommand.self,
      DataCommand.self, PortsCommand.self, ReportCommand.self, PlotCommand.self, KeysCommand.self,
    ])
}
