import Foundation

/// What the report shows of one run, read from its directory. Each part is nil (or empty)
/// while the file it comes from does not exist yet; an unreadable file is an error naming it.
public struct RunReportData {
    public let run: RunDirectory
    public let name: String
    /// Resolved configuration values by key path, as YAML writes them.
    public let config: [String: String]?
    /// The step records of metrics.jsonl, in order.
    public let steps: [MetricsRecord]
    /// The epoch records of metrics.jsonl that hold an online-probe accuracy, in order (a run
    /// without `training.online_probe` logs only nulls there).
    public let onlineProbe: [MetricsRecord]
    public let probe: ProbeReport?
    public let correlation: CorrelationResult?
    public let corruptions: CorruptionResult?

    public init(run: RunDirectory) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: run.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError("\(run.path): no such run directory")
        }
        self.run = run
        name = URL(fileURLWithPath: run.path).standardizedFileURL.lastPathComponent
        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
        if exists(run.configPath) {
            let config = try Config(contentsOf: run.configPath)
            self.config = Dictionary(uniqueKeysWithValues: config.keyValues.map { ($0.path, $0.text) })
        } else {
            config = nil
        }
        let records = exists(run.metricsPath) ? try MetricsLog.read(path: run.metricsPath) : []
        steps = records.filter { $0.kind == .step }
        onlineProbe = records.filter { $0.kind == .epoch && $0.onlineProbeTop1?.contains { $0 != nil } == true }
        probe = exists(run.probePath) ? try readJSON(ProbeReport.self, from: run.probePath) : nil
        correlation = exists(run.correlationPath) ? try readJSON(CorrelationResult.self, from: run.correlationPath) : nil
        corruptions = exists(run.corruptionsPath) ? try readJSON(CorruptionResult.self, from: run.corruptionsPath) : nil
    }
}
