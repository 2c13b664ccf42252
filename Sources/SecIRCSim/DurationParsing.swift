/// Durations as people write them on a command line: `250ms`, `60s`, `1.5s`, `30m`, `1h`
/// (a bare number is seconds).
public enum DurationParsing {
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3_600)]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0, value * scale <= 365 * 86_400 else { return nil }
        return .nanoseconds(Int64((value * scale * 1e9).rounded()))
    }
}
