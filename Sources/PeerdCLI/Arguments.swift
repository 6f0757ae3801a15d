import ArgumentParser
import Config
import Topology

// `--graph-type csv` and `--log-level loud` are usage errors that list the choices, in peerd
// and peerctl alike. The enums live in the layers that use them (Topology, Config), which do
// not import ArgumentParser; the conformances live here, beside the flags.

extension GraphFormat: ExpressibleByArgument {
  public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

extension LogLevel: ExpressibleByArgument {
  /// `-ll INFO` (decentralizepy's spelling) and `--log-level info` are the same.
  public init?(argument: String) { self.init(name: argument) }
}
