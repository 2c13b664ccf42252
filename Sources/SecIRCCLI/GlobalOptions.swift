public import ArgumentParser
import Foundation
import SecIRCAPI

/// Options every daemon command takes: where the API is, where its token is, and the output
/// form. Accepted before or after the subcommand (`secirc --api URL send bob hi`).
public struct GlobalOptions: ParsableArguments {
    /// The data directory of a `secirc-client` started with no flags.
    public static let defaultDataDirectory = "data/client"

    @Option(name: .long, help: ArgumentHelp(
        "The daemon's API base URL (default: $SECIRC_API, else \(APIClient.defaultURL)).", valueName: "url"))
    public var api: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp(
        "The daemon's API token file (default: $SECIRC_TOKEN_FILE, else <data-dir>/api.token).", valueName: "file"))
    public var tokenFile: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp(
        "The daemon's data directory, to find api.token in (default: \(defaultDataDirectory)).", valueName: "dir"))
    public var dataDir: String?

    @Flag(name: .long, help: "Print the API's JSON as it is instead of text.")
    public var json = false

    public init() {}

    /// The API URL: `--api`, else `SECIRC_API`, else the default.
    public func apiURL(environment: [String: String]) -> String {
        api ?? environment["SECIRC_API"].flatMap { $0.isEmpty ? nil : $0 } ?? APIClient.defaultURL
    }

    /// The token file: `--token-file`, else `<--data-dir>/api.token` when `--data-dir` is given,
    /// else `SECIRC_TOKEN_FILE`, else `data/client/api.token` (flags win over the environment).
    public func tokenPath(environment: [String: String]) -> String {
        if let tokenFile { return tokenFile }
        if let dataDir { return dataDir + "/api.token" }
        if let fromEnvironment = environment["SECIRC_TOKEN_FILE"], !fromEnvironment.isEmpty { return fromEnvironment }
        return Self.defaultDataDirectory + "/api.token"
    }
}
