import ArgumentParser
import Foundation
import Numerics

extension ParsableCommand {
  /// `main()` with the exit codes of docs/operations.md: a usage error (unknown flag, bad
  /// value, failed `validate()`) prints one line on standard error and exits with 2, the code
  /// for bad input, instead of ArgumentParser's 64. `--help` and `--version` still exit 0, and
  /// `ExitCode` errors thrown by `run()` keep their code.
  public static func mainExitingTwoOnUsageErrors(_ arguments: [String]? = nil) -> Never {
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      exit()
    } catch {
      guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
      StandardError.write(usageLine(for: error))
      exit(withError: ExitCode(2))
    }
  }

  /// "peerd: <what is wrong> (see 'peerd --help')": ArgumentParser's message without its usage
  /// block, and the help command of the subcommand that failed.
  static func usageLine(for error: Error) -> String {
    let lines = fullMessage(for: error).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    var what = lines.first ?? "invalid command line"
    if what.hasPrefix("Error: ") { what.removeFirst("Error: ".count) }
    // Long lists of choices come one per line, as "- name".
    let choices = lines.dropFirst().prefix { $0.hasPrefix("- ") }.map { $0.dropFirst(2) }
    if !choices.isEmpty { what += " " + choices.joined(separator: ", ") }
    let help =
      lines.last { $0.hasPrefix("See '") }.flatMap { $0.split(separator: "'").dropFirst().first }.map(String.init)
      ?? "\(configuration.commandName ?? "peerd") --help"
    let command = help.hasSuffix(" --help") ? String(help.dropLast(" --help".count)) : help
    return "\(command): \(what) (see '\(help)')"
  }
}
