import Foundation
import Testing
import Torch
@testable import Blockwise

@Suite struct CorrelationAnalysisTests {
    @Test func accumulatedBatchesEqualTheWholeSetAtOnce() {
        let a = Tensor.randn([96, 6], generator: Generator(seed: 1)) * 3 + 1
        let b = a * 0.5 + Tensor.randn([96, 6], generator: Generator(seed: 2))
        var accumulator = CrossCorrelationAccumulator()
        for start in stride(from: 0, to: 96, by: 40) {
            let length = min(40, 96 - start)
            accumulator.add(a.narrow(dim: 0, start: start, length: length), b.narrow(dim: 0, start: start, length: length))
        }
        let whole = BarlowTwins.crossCorrelation(a, b)
        #expect(accumulator.count == 96)
        #expect((accumulator.matrix().to(.float32) - whole).abs().max().item() < 1e-5)
    }

    @Test func identicalViewsCorrelatePerfectlyOnTheDiagonal() {
        let a = Tensor.randn([200, 5], generator: Generator(seed: 3))
        var accumulator = CrossCorrelationAccumulator()
        accumulator.add(a, a)
        let result = BlockCorrelation(block: 1, crossCorrelation: accumulator.matrix())
        #expect(abs(result.onDiagonal.mean - 1) < 1e-3)
        #expect(result.onDiagonal.count == 5)
        #expect(result.offDiagonal.count == 20)
        #expect(abs(result.offDiagonal.mean) < 0.1)
    }

    @Test func quantilesInterpolateLinearlyAsTorchQuantile() {
        // torch.quantile(torch.arange(1., 6.), q) = 1 + 4q for these values.
        let summary = DistributionSummary(of: Tensor([Float](arrayLiteral: 5, 1, 4, 2, 3)))
        for level in DistributionSummary.levels {
            #expect(abs(summary.quantile(level)! - (1 + 4 * level)) < 1e-12, "level \(level)")
        }
        #expect(summary.mean == 3)
        #expect(Array(summary.quantiles.keys).sorted() == ["0.05", "0.25", "0.5", "0.75", "0.95"])
    }

    @Test func histogramCountsEveryValueOnceInEqualBins() {
        let histogram = Histogram(of: Tensor([Float](arrayLiteral: -1, -0.99, 0, 0.49, 0.5, 1, 3)), range: -1...1, bins: 4)
        #expect(histogram.counts == [2, 0, 2, 3])
    }

    @Test func analysisOfATinyBackboneSummarisesEachRequestedBlock() throws {
        let fixture = try RunFixture(overrides: RunFixture.sixteenthWidth)
        let evaluation = try RunEvaluation(run: fixture.run, batchSize: 32)
        let result = try CorrelationAnalysis.run(evaluation, blocks: [1, 4], limit: 64)
        #expect(result.blocks.map(\.block) == [1, 4])
        #expect(result.blocks[0].onDiagonal.count == 4, "block 1 of the 1/16-wide ResNet-18 has 4 channels")
        #expect(result.blocks[1].offDiagonal.count == 32 * 31)
        for block in result.blocks {
            // Correlations lie in [−1, 1]; two views of the same images correlate positively.
            #expect(block.onDiagonal.quantile(0.05)! >= -1 && block.onDiagonal.quantile(0.95)! <= 1)
            #expect(block.onDiagonal.mean > block.offDiagonal.mean)
            #expect(block.onDiagonal.quantile(0.25)! <= block.onDiagonal.quantile(0.75)!)
        }
        let written = try readJSON(CorrelationResult.self, from: fixture.run.correlationPath)
        #expect(written == result)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.run.correlationPath))) as! [String: Any]
        let first = (json["blocks"] as! [[String: Any]])[0]
        #expect((first["on_diagonal"] as? [String: Any])?["quantiles"] is [String: Double])
    }

    @Test func analysisIsReproducibleForOneSeed() throws {
        let fixture = try RunFixture(overrides: RunFixture.sixteenthWidth)
        let evaluation = try RunEvaluation(run: fixture.run, batchSize: 32)
        let first = try CorrelationAnalysis.run(evaluation, blocks: [2], seed: 4, limit: 32)
        let second = try CorrelationAnalysis.run(evaluation, blocks: [2], seed: 4, limit: 32)
        let other = try CorrelationAnalysis.run(evaluation, blocks: [2], seed: 5, limit: 32)
        #expect(first == second)
        #expect(first != other)
    }

    @Test func aBlockOutsideTheBackboneIsRefusedByName() throws {
        let fixture = try RunFixture(overrides: RunFixture.sixteenthWidth)
        let evaluation = try RunEvaluation(run: fixture.run)
        let error = #expect(throws: RunError.self) { try CorrelationAnalysis.run(evaluation, blocks: [5]) }
        #expect(error?.description.contains("block 5 is out of range") == true)
        #expect(error?.description.contains("blocks 1, 2, 3, 4") == true)
    }

    @Test func anEndToEndRunWithMergedBlocksIsAnalysedAtTheFourStages() throws {
        // End-to-end training sees one block and this partition three, but runs are compared
        // at the same depths (Fig. 8): the backbone's four stages.
        let fixture = try RunFixture(overrides: RunFixture.sixteenthWidth + ["training.mode=end-to-end", "model.partition=1+2,3,4"])
        let evaluation = try RunEvaluation(run: fixture.run, batchSize: 32)
        #expect(try CorrelationAnalysis.run(evaluation, limit: 32).blocks.map(\.block) == [1, 2, 3, 4])
    }

    @Test func aMissingRunIsAClearError() {
        let error = #expect(throws: RunError.self) { try RunEvaluation(run: RunDirectory("/nonexistent/run")) }
        #expect(error?.description == "/nonexistent/run: no such run directory")
    }

    @Test func aRunWithoutBackboneSaysSo() throws {
        let fixture = try RunFixture(overrides: RunFixture.sixteenthWidth, writeBackbone: false)
        let error = #expect(throws: RunError.self) { try RunEvaluation(run: fixture.run) }
        #expect(error?.description.contains("no backbone.safetensors") == true)
    }
}
