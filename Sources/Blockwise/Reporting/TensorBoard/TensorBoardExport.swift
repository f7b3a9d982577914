import Foundation

extension RunDirectory {
    /// Writes the run's scalars so far (metrics.jsonl, and probe.json's accuracies as
    /// `probe_top1/block_K` at the last step) into a new event file under RUN/tensorboard,
    /// for runs logged without a live writer. Returns the file's path.
    @discardableResult
    public func exportTensorBoard() throws -> String {
        try requireExisting()
        let writer = try TensorBoardWriter(directory: tensorboardPath)
        var lastStep = 0
        if FileManager.default.fileExists(atPath: metricsPath) {
            for record in try MetricsLog.read(path: metricsPath) {
                writer.add(record: record)
                lastStep = max(lastStep, record.step)
            }
        }
        if FileManager.default.fileExists(atPath: probePath) {
            let probe = try readJSON(ProbeReport.self, from: probePath)
            writer.add(probe.blocks.flatMap { block in
                [("probe_top1/block_\(block.block)", block.top1), ("probe_top5/block_\(block.block)", block.top5)]
            }, step: lastStep)
        }
        return writer.path
    }
}
