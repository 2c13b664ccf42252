public import Logging
public import SecIRCConfig
import SecIRCLock

/// The log level, changeable at run time (`PUT /v1/admin/log-level`). Loggers made by
/// `handler(label:)` read it on every call.
public final class LogLevelControl: Sendable {
    private let current: Locked<LogLevel>

    public init(_ level: LogLevel) { current = Locked(level) }

    public var level: LogLevel {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    /// A stderr handler whose level follows this control.
    public func handler(label: String) -> any LogHandler {
        ControlledLogHandler(base: StreamLogHandler.standardError(label: label), control: self)
    }

    public var loggerLevel: Logger.Level { Logger.Level(rawValue: level.rawValue) ?? .info }
}

private struct ControlledLogHandler: LogHandler {
    var base: StreamLogHandler
    let control: LogLevelControl

    var logLevel: Logger.Level {
        get { control.loggerLevel }
        set { control.level = LogLevel(rawValue: newValue.rawValue) ?? .info }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        base.log(event: event)
    }
}
