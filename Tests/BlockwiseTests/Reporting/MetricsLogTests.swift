import Foundation
import Testing
@testable import Blockwise

@Suite struct MetricsLogTests {
    let folder = TemporaryFolder()
    var path: String { folder.path + "/metrics.jsonl" }

    static let step = MetricsRecord.step(phase: 1, epoch: 2, step: 30, owner: .blocks, loss: [nil, 0.625, 1.5],
                                         lr: 0.0125, imagesPerSecond: 812.5, peakMemoryMB: 1024.25)
    static let epoch = MetricsRecord.epoch(phase: 1, epoch: 3, step: 30, owner: .blocks, loss: [nil, 0.75, 1.25],
                                           onlineProbeTop1: [nil, 0.5, 0.625])

    /// The lines of the metrics file as JSON objects, as another tool would read them.
    func jsonLines() throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func recordsRoundTripInOrder() throws {
        let network = MetricsRecord.step(phase: 0, epoch: 0, step: 31, owner: .network, loss: [0.1],
                                         lr: 0.1, imagesPerSecond: 1e-3, peakMemoryMB: 3)
        try MetricsLog(path: path).append(Self.step)
        try MetricsLog(path: path).append(Self.epoch)
        try MetricsLog(path: path).append(network)
        #expect(try MetricsLog.read(path: path) == [Self.step, Self.epoch, network])
    }

    @Test func aLineHoldsTheFieldsOfItsKindOnlyUnderTheirLongStandingNames() throws {
        try MetricsLog(path: path).append(Self.step)
        try MetricsLog(path: path).append(Self.epoch)
        let lines = try jsonLines()
        #expect(Set(lines[0].keys) == ["kind", "phase", "epoch", "step", "owner", "loss", "lr", "images_per_second", "peak_memory_mb"])
        #expect(Set(lines[1].keys) == ["kind", "phase", "epoch", "step", "owner", "loss", "online_probe_top1"])
        #expect(lines[0]["kind"] as? String == "step")
        #expect(lines[0]["owner"] as? String == "blocks")
        // A block without a value is a null entry, so entry k stays block k+1.
        #expect(try #require(lines[0]["loss"] as? [Any]).first is NSNull)
        #expect(try #require(lines[1]["online_probe_top1"] as? [Any]).first is NSNull)
    }

    @Test func linesWrittenBeforeTheRecordHadAnOwnerReadAsBlocks() throws {
        // As the trainer wrote them before the record type existed (JSONSerialization, sorted keys).
        try Data("""
            {"epoch":0,"images_per_second":1234.5,"kind":"step","loss":[0.6931,null,1.25,2.5],"lr":0.0125,"peak_memory_mb":812,"phase":0,"step":10}
            {"epoch":1,"kind":"epoch","loss":[0.7,null,1.5,2.25],"online_probe_top1":[0.25,null,0.5,0.75],"phase":0,"step":10}

            """.utf8).write(to: URL(fileURLWithPath: path))
        let records = try MetricsLog.read(path: path)
        #expect(records == [
            .step(phase: 0, epoch: 0, step: 10, owner: .blocks, loss: [0.6931, nil, 1.25, 2.5], lr: 0.0125,
                  imagesPerSecond: 1234.5, peakMemoryMB: 812),
            .epoch(phase: 0, epoch: 1, step: 10, owner: .blocks, loss: [0.7, nil, 1.5, 2.25], onlineProbeTop1: [0.25, nil, 0.5, 0.75]),
        ])
    }

    @Test func rewindKeepsWholeRecordsThroughAStepAndDropsATornLine() throws {
        let log = try MetricsLog(path: path)
        for step in 1...3 {
            try log.append(.step(phase: 0, epoch: 0, step: step, owner: .network, loss: [1 / Double(step)], lr: 0.1,
                                 imagesPerSecond: 100, peakMemoryMB: 10))
        }
        try log.append(.epoch(phase: 0, epoch: 1, step: 3, owner: .network, loss: [0.5], onlineProbeTop1: [nil]))
        // An old-format line, then the line a crash cut short.
        try Data(#"{"epoch":1,"images_per_second":100,"kind":"step","loss":[0.2],"lr":0.1,"peak_memory_mb":10,"phase":0,"step":4}"#.utf8 + Data("\n{\"epoch\":1,\"kind\":\"st".utf8))
            .append(to: path)
        try MetricsLog.rewind(path: path, throughStep: 4)
        #expect(try MetricsLog.read(path: path).map(\.step) == [1, 2, 3, 3, 4])
        try MetricsLog.rewind(path: path, throughStep: 2)
        let kept = try MetricsLog.read(path: path)
        #expect(kept.map(\.step) == [1, 2])
        try MetricsLog(path: path).append(Self.step)
        #expect(try MetricsLog.read(path: path) == kept + [Self.step])
    }

    @Test func aCorruptLineIsReportedWithItsLineNumber() throws {
        try MetricsLog(path: path).append(Self.step)
        try Data("{\"step\": 2}\n".utf8).append(to: path)
        let error = #expect(throws: RunError.self) { try MetricsLog.read(path: path) }
        #expect(error?.description == "\(path):2: not a metrics record")
    }
}

extension Data {
    /// Appends these bytes to the file at `path`, as a writer interrupted mid-line leaves them.
    func append(to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: self)
    }
}
