import Testing
import Torch
@testable import Blockwise

/// `blockwise bench --data SPEC`'s measurement.
@Suite struct DataBenchmarkTests {
    @Test func theBenchmarkTimesLoadingWithTwoViewsAndComparesWithAStep() throws {
        let steps = StepCounter()
        let result = try DataBenchmark.run(spec: try DatasetSpec(parsing: "synthetic:shapes?count=300&size=16"), batchSize: 64,
                                           batches: 2, warmup: 1) { batch in
            #expect(batch.viewA.shape == [64, 3, 16, 16] && batch.viewB.shape == [64, 3, 16, 16])
            steps.count += 1
        }
        #expect(result.imagesPerSecond > 0)
        #expect(result.side == 16 && result.batchSize == 64)
        #expect(steps.count == 3)
        #expect(result.ratio == result.imagesPerSecond / result.stepImagesPerSecond!)
        #expect(result.description.contains("data/step ratio"))
    }

    @Test func withoutAStepThereIsNoRatio() throws {
        let result = try DataBenchmark.run(spec: try DatasetSpec(parsing: "synthetic:shapes?count=100&size=8"), batchSize: 32,
                                           batches: 1, warmup: 0)
        #expect(result.ratio == nil)
    }
}

final class StepCounter: @unchecked Sendable { var count = 0 }
