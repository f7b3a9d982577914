import Foundation
import Testing
@testable import Blockwise

@Suite struct ProgressReporterTests {
    final class Lines: @unchecked Sendable { var items: [String] = [] }

    @Test func plainOutputWritesWholeLinesWithETAAndThroughput() {
        let lines = Lines()
        let progress = ProgressReporter(total: 4, label: "epoch 1", interactive: false, minimumInterval: 0) { lines.items.append($0) }
        progress.update(done: 2, rate: 512, fields: [("loss1", "0.50")])
        #expect(lines.items.count == 1)
        #expect(lines.items[0].hasPrefix("epoch 1 2/4  ETA "))
        #expect(lines.items[0].contains("512 img/s"))
        #expect(lines.items[0].hasSuffix("loss1 0.50\n"))
        #expect(!lines.items[0].contains("\r"))
    }

    @Test func terminalOutputRedrawsABarInPlace() {
        let lines = Lines()
        let progress = ProgressReporter(total: 10, label: "step", interactive: true) { lines.items.append($0) }
        progress.update(done: 5, force: true)
        progress.update(done: 10)
        #expect(lines.items[0].hasPrefix("\r"))
        #expect(lines.items[0].contains("[############............]"))
        #expect(lines.items[1].hasSuffix("\n"))
    }

    @Test func plainLinesAreRateLimited() {
        let lines = Lines()
        let progress = ProgressReporter(total: 100, label: "x", interactive: false, minimumInterval: 3600) { lines.items.append($0) }
        for i in 1...50 { progress.update(done: i) }
        #expect(lines.items.count == 1)
        progress.update(done: 100)
        #expect(lines.items.count == 2)
    }

    @Test func durationsReadAsHoursMinutesSeconds() {
        #expect(ProgressReporter.duration(42) == "42s")
        #expect(ProgressReporter.duration(185) == "3m05s")
        #expect(ProgressReporter.duration(3720) == "1h02m")
    }
}

@Suite struct MetricsLogTests {
    @Test func appendsRecordsThatReadBackInOrder() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MetricsLog(path: path).append(["step": 1, "loss": [0.5, 0.25]])
        try MetricsLog(path: path).append(["step": 2, "lr": 0.1])
        let records = try MetricsLog.read(path: path)
        #expect(records.count == 2)
        #expect(records[0]["loss"] as? [Double] == [0.5, 0.25])
        #expect(records[1]["step"] as? Int == 2)
    }

    @Test func rewindKeepsWholeRecordsUpToAStepAndDropsATornLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("{\"step\": 1}\n{\"step\": 2}\n{\"step\": 3}\n{\"step\": 4, \"lo".utf8).write(to: URL(fileURLWithPath: path))
        try MetricsLog.rewind(path: path, throughStep: 2)
        #expect(try MetricsLog.read(path: path).compactMap { $0["step"] as? Int } == [1, 2])
        try MetricsLog(path: path).append(["step": 3])
        #expect(try MetricsLog.read(path: path).compactMap { $0["step"] as? Int } == [1, 2, 3])
    }

    @Test func aCorruptLineIsReportedWithItsLineNumber() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("{\"step\": 1}\n{\"step\": \n".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: RunError.self) { try MetricsLog.read(path: path) }
        #expect(error?.description == "\(path):2: not a JSON object")
    }
}
