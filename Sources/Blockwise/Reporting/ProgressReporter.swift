import Foundation

/// Shows the progress of long work: a redrawn bar with ETA and throughput on a terminal,
/// plain periodic lines otherwise (logs, CI), so output stays readable in both.
public final class ProgressReporter: @unchecked Sendable {
    public let total: Int
    public let label: String
    private let interactive: Bool
    private let minimumInterval: Double
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let write: (String) -> Void

    /// - Parameters:
    ///   - total: units of work (steps) in all.
    ///   - interactive: draw a bar in place; by default when standard error is a terminal.
    ///   - minimumInterval: seconds between plain lines (a bar redraws at most 10 times a second).
    public init(total: Int, label: String, interactive: Bool = isatty(2) != 0, minimumInterval: Double = 10,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.total = max(1, total)
        self.label = label
        self.interactive = interactive
        self.minimumInterval = minimumInterval
        self.write = write
    }

    /// Reports that `done` units are finished; `rate` is items per second (e.g. images/s),
    /// `fields` short labelled values such as per-block losses.
    public func update(done: Int, rate: Double? = nil, fields: [(String, String)] = [], force: Bool = false) {
        let now = Date()
        let interval = interactive ? 0.1 : minimumInterval
        guard force || done >= total || now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let fraction = Double(min(done, total)) / Double(total)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - min(done, total)) : nil
        var parts = ["\(label) \(done)/\(total)"]
        parts.append("ETA " + (eta.map(Self.duration) ?? "?"))
        if let rate { parts.append(String(format: "%.0f img/s", rate)) }
        parts += fields.map { "\($0.0) \($0.1)" }
        if interactive {
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
            write("\r\u{1B}[2K" + bar + " " + parts.joined(separator: "  ") + (done >= total ? "\n" : ""))
        } else {
            write(parts.joined(separator: "  ") + "\n")
        }
    }

    /// "1h02m", "3m05s" or "42s".
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
