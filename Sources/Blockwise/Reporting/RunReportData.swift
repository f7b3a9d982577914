import Foundation

/// What the report shows of one run, read from its directory. Each part is nil (or empty)
/// while the file it comes from does not exist yet; an unreadable file is an error naming it.
public struct RunReportData {
    public let run: RunDirectory
    public let name: String
    /// Resolved configuration values by key path, as YAML writes them.
    public let config: [String: String]?
    /// Step records: step, learning rate and loss per block (nil for a block without a loss).
    public let steps: [(step: Int, lr: Double?, loss: [Double?])]
    /// Epoch records' online linear-probe accuracy per block.
    public let onlineProbe: [(step: Int, top1: [Double?])]
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
        var steps: [(Int, Double?, [Double?])] = []
        var online: [(Int, [Double?])] = []
        if exists(run.metricsPath) {
            for record in try MetricsLog.read(path: run.metricsPath) {
                guard let step = (record["step"] as? NSNumber)?.intValue else { continue }
                let numbers = { (key: String) in (record[key] as? [Any])?.map { ($0 as? NSNumber)?.doubleValue } }
                if record["kind"] as? String == "epoch" {
                    if let top1 = numbers("online_probe_top1") { online.append((step, top1)) }
                } else if let loss = numbers("loss") {
                    steps.append((step, (record["lr"] as? NSNumber)?.doubleValue, loss))
                }
            }
        }
        self.steps = steps
        onlineProbe = online
        probe = exists(run.probePath) ? try readJSON(ProbeReport.self, from: run.probePath) : nil
        correlation = exists(run.correlationPath) ? try readJSON(CorrelationResult.self, from: run.correlationPath) : nil
        corruptions = exists(run.corruptionsPath) ? try readJSON(CorruptionResult.self, from: run.corruptionsPath) : nil
    }
}
