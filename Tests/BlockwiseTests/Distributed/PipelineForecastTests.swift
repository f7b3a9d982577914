import Testing
@testable import Blockwise

/// The block-parallel forecast: every partition priced from per-stage costs, the slowest block
/// setting the pace.
@Suite struct PipelineForecastTests {
    @Test func everyPartitionIntoNBlocksIsListedOnce() {
        #expect(PipelineForecast.partitions(into: 1).map(\.description) == ["1+2+3+4"])
        #expect(Set(PipelineForecast.partitions(into: 2).map(\.description)) == ["1,2+3+4", "1+2,3+4", "1+2+3,4"])
        #expect(PipelineForecast.partitions(into: 3).count == 3)
        #expect(PipelineForecast.partitions(into: 4).map(\.description) == ["1,2,3,4"])
    }

    @Test func aBlockCostsItsStagesAndTheHeadAfterItsLastStage() throws {
        let costs = [(1, 3.0, 5.0), (2, 2.0, 1.0), (3, 2.0, 1.0), (4, 1.0, 1.0)].map {
            PipelineForecast.StageCost(stage: $0.0, backboneSeconds: $0.1, headSeconds: $0.2)
        }
        let plan = PipelineForecast.price(try BlockPartition(parsing: "1+2,3,4"), costs, batchSize: 10)
        #expect(plan.blockSeconds == [6, 3, 2])
        #expect(plan.imagesPerSecond == 10.0 / 6)
        // Block 1's head is the costliest part: alone, stage 1 takes 8 s; with stage 2, 6 s.
        #expect(PipelineForecast.price(.perStage, costs, batchSize: 10).blockSeconds == [8, 3, 3, 2])
    }

    @Test func theStagesOfARealNetworkAreMeasured() throws {
        let forecast = try PipelineForecast.measure(config: try tinyConfig(), steps: 1)
        #expect(forecast.stageCosts.count == 4)
        #expect(forecast.stageCosts.allSatisfy { $0.backboneSeconds > 0 && $0.headSeconds > 0 })
        #expect(forecast.balanced.map { $0.blockSeconds.count } == [1, 2, 3, 4])
        #expect(forecast.configured.partition == "1,2,3,4")
        #expect(forecast.balanced[3].imagesPerSecond >= forecast.oneDeviceImagesPerSecond)
    }
}
