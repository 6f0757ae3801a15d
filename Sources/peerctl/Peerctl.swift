import ArgumentParser
import PeerdCLI

/// `peerctl`: the researcher's and operator's companion to `peerd`.
///
/// Every subcommand is thin: it parses flags and calls the library (Learning, Topology,
/// Datasets). Errors in the files it reads, and usage errors, are one line naming the file (or
/// flag) and exit with 2.
@main
struct Peerctl: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "peerctl",
    abstract: "Generate graphs, check configs, preview partitions; report, plot and watch peerd runs.",
    subcommands: [
      GraphCommand.self, GraphInfoCommand.self, HostsCommand.self, CheckCommand.self, PartitionCommand.self,
      DataCommand.self, PortsCommand.self, ReportCommand.self, PlotCommand.self, WatchCommand.self,
      ManifestCommand.self, KeysCommand.self,
    ])

  /// ArgumentParser's `main()`, with usage errors exiting 2 like every other bad input.
  static func main() { mainExitingTwoOnUsageErrors() }
}
