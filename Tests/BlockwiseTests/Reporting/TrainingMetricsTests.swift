import Foundation
import Testing
@testable import Blockwise

/// What a real training run logs: each mode's losses are labelled for what they belong to in
/// metrics.jsonl, the TensorBoard event file and the report.
@Suite struct TrainingMetricsTests {
    /// Trains a tiny run in `mode` and returns its records, TensorBoard tags and report page.
    func train(_ mode: String) throws -> (records: [MetricsRecord], tags: Set<String>, html: String) {
        let run = temporaryRun(mode)
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        _ = try Trainer(config: try tinyConfig(["training.mode=\(mode)", "training.epochs=1"]), run: run, log: { _ in }).train()
        let eventFiles = try FileManager.default.contentsOfDirectory(atPath: run.tensorboardPath)
        let events = try eventFiles.flatMap { try EventFileReader.read(run.tensorboardPath + "/" + $0) }
        return (try MetricsLog.read(path: run.metricsPath), Set(events.flatMap(\.scalars.keys)),
                HTMLReport(runs: [try RunReportData(run: run)]).html())
    }

    @Test func aRunSkippingUnreadableImagesReportsHowManyInItsLogMetricsAndEvents() throws {
        // 16 images, one of them broken, in batches of 8: every epoch meets each image once.
        let folder = TemporaryFolder()
        for k in 0..<8 { folder.write("train/a/\(k).png", Fixtures.bytes("data", "gradient.png")) }
        for k in 0..<7 { folder.write("train/b/\(k).png", Fixtures.bytes("data", "grey.png")) }
        folder.write("train/b/broken.jpg", [0xFF, 0xD8, 0xFF, 0x00])
        let run = temporaryRun("skipping")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let spec = "folder:\(folder.path)/train"
        var log: [String] = []
        _ = try Trainer(config: try tinyConfig(["data.dataset=\(spec)?size=16&skip-unreadable=true", "data.batch_size=8"]),
                        run: run, log: { log.append($0) }).train()
        let records = try MetricsLog.read(path: run.metricsPath)
        #expect(records.filter { $0.kind == .epoch }.map(\.skippedImages) == [1, 1])
        #expect(records.filter { $0.kind == .step }.allSatisfy { $0.skippedImages == nil })
        #expect(log.filter { $0 == "skipped 1 unreadable image(s) of \(spec) so far" }.count == 2, "\(log)")
        let events = try FileManager.default.contentsOfDirectory(atPath: run.tensorboardPath)
            .flatMap { try EventFileReader.read(run.tensorboardPath + "/" + $0) }
        #expect(events.compactMap { $0.scalars["skipped_images"] } == [1, 1])
    }

    @Test func aRunReadingEveryImageWritesNoSkippedCount() throws {
        let (records, tags, _) = try train("simultaneous")
        #expect(records.allSatisfy { $0.skippedImages == nil })
        #expect(!tags.contains("skipped_images"))
    }

    @Test func anEndToEndRunLabelsItsLossAsTheNetworks() throws {
        let (records, tags, html) = try train("end-to-end")
        #expect(!records.isEmpty)
        #expect(records.allSatisfy { $0.owner == .network && $0.loss.count == 1 })
        #expect(tags.isSuperset(of: ["loss/network", "epoch_loss/network"]))
        #expect(!tags.contains { $0.contains("block") })
        #expect(html.contains("class=\"legend-text\">network</text>"))
        #expect(!html.contains("block 1"))
    }

    @Test func aBlockwiseRunLabelsEachLossAsItsBlocks() throws {
        let (records, tags, html) = try train("simultaneous")
        #expect(records.allSatisfy { $0.owner == .blocks && $0.loss.count == 4 })
        #expect(tags.isSuperset(of: ["loss/block_1", "loss/block_4", "epoch_loss/block_4"]))
        #expect(!tags.contains { $0.contains("network") })
        #expect(html.contains("class=\"legend-text\">block 4</text>"))
    }
}
