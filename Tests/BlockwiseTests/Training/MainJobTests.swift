import Foundation
import Testing
import Torch
@testable import Blockwise

@Suite(.serialized) struct MainJobTests {
    @Test func comparesRandomEndToEndAndBlockwiseRunsAtEveryBlock() throws {
        let folder = TemporaryFolder()
        let job = MainJob(base: try tinyConfig(["training.epochs=1"]), root: folder.path + "/demo", probeEpochs: 2,
                          correlationImages: 16)
        let result = try job.run { _ in }
        #expect(Set(result.top1.keys) == ["random-init", "end-to-end", "simultaneous"])
        #expect(result.top1.values.allSatisfy { $0.count == 4 && $0.allSatisfy { (0...1).contains($0) } })
        let lines = result.table.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines[0].contains("random-init") && lines[0].contains("simultaneous"))
        let html = try String(contentsOfFile: result.reportPath, encoding: .utf8)
        #expect(html.contains("end-to-end") && html.contains("<svg"))
        #expect(FileManager.default.fileExists(atPath: folder.path + "/demo/simultaneous/correlation.json"))
        // The random baseline is the trained runs' starting point: same config, same seed.
        let random = try RunDirectory(folder.path + "/demo/random-init").loadBackbone()
        let again = ResNet(try tinyConfig().model, generator: Generator(seed: 0))
        #expect(random.orderedStateDict().map(\.tensor).elementsEqual(again.orderedStateDict().map(\.tensor)) { $0.equal($1) })
    }
}
