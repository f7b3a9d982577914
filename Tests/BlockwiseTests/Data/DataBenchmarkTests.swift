import Foundation
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

    /// The binary's default allocator keeps the memory of a loader thread's batches for the next
    /// ones: glibc gives each thread an arena whose heaps are unmapped once empty, so without one
    /// arena for all threads every batch's views (27 MB here) were faulted in afresh.
    @Test func theLoaderReusesTheMemoryOfEarlierBatchesByDefault() throws {
        let binary = try blockwiseExecutable()
        func freshMBPerBatch(_ allocator: String) throws -> Double {
            let run = try runToEnd(binary, ["bench", "--data", "synthetic:shapes?count=512&size=96", "--batch-size", "128",
                                            "--steps", "4", "--json"],
                                   environment: [HostAllocator.environmentVariable: allocator])
            try #require(run.status == 0, "\(run.output)")
            let json = try #require(run.output.firstIndex(of: "{").map { String(run.output[$0...]) })
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            return try #require(fields["fresh_mb_per_batch"] as? Double)
        }
        // Two views of [128, 3, 96, 96] floats.
        let viewsMB = 27.0
        // Without the one arena, 44–71 MB a batch; with it, a few MB at most: 3.4 once, in the
        // CUDA build's whole suite on 2 busy cores (under 2.7 when run alone).
        let kept = try freshMBPerBatch("")
        #expect(kept < 0.25 * viewsMB, "\(kept) MB a batch")
    }

    @Test func theCountOfFreshMemorySeesPagesTouchedForTheFirstTime() throws {
        let bytes = 16 << 20
        let memory = try #require(mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(memory, bytes) }
        let before = ProcessMemory.freshPagesMB()
        memset(memory, 1, bytes)
        let touched = ProcessMemory.freshPagesMB() - before
        #expect(touched >= 15.9, "\(touched) MB")
        let again = ProcessMemory.freshPagesMB()
        memset(memory, 2, bytes)
        #expect(ProcessMemory.freshPagesMB() - again < 1, "pages touched before are not fresh")
    }

    @Test func withoutAStepThereIsNoRatio() throws {
        let result = try DataBenchmark.run(spec: try DatasetSpec(parsing: "synthetic:shapes?count=100&size=8"), batchSize: 32,
                                           batches: 1, warmup: 0)
        #expect(result.ratio == nil)
    }
}

final class StepCounter: @unchecked Sendable { var count = 0 }
