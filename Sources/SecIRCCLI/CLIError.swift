public import SecIRCAPI
public import SecIRCLauncher

/// An error the `secirc` command reports as `secirc: <description>` with exit status 1.
public protocol CLIFailure: Error, CustomStringConvertible {}

extension APIError: CLIFailure {}
extension ContactResolutionError: CLIFailure {}
extension GroupResolutionError: CLIFailure {}
extension DevnetError: CLIFailure {}

/// A failure of the command line itself (a file it cannot read, a wait that timed out).
public struct CLIError: CLIFailure, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
