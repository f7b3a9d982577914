import Foundation
import Synchronization
import Testing
import Torch
@testable import Blockwise

/// A dataset whose image i is filled with the value i (mod 256) and whose label is i, to see
/// which samples a batch holds; it fails on index `failAt`.
final class NumberedDataset: ImageDataset {
    let count: Int
    let failAt: Int?
    let reads = Atomic<Int>(0)

    init(count: Int, failAt: Int? = nil) {
        self.count = count
        self.failAt = failAt
    }

    var name: String { "numbered" }
    var imageShape: [Int] { [1, 2, 2] }
    var classCount: Int { count }
    var statistics: ChannelStatistics { .mnist }

    func batch(_ indices: [Int]) throws -> LabelledBatch {
        reads.add(1, ordering: .relaxed)
        if let failAt, indices.contains(failAt) { throw DataError("numbered/\(failAt).png", "unreadable image") }
        let images = Tensor(indices.flatMap { Array(repeating: UInt8($0 % 256), count: 4) }, shape: [indices.count, 1, 2, 2])
        return LabelledBatch(images: images, labels: Tensor(indices))
    }
}

@Suite struct DataLoaderTests {
    func labels(_ loader: DataLoader<LabelledBatch>, batches: Int) throws -> [[Int]] {
        try (0..<batches).map { _ in try loader.next().value.labels.toArray(Int.self) }
    }

    @Test func anEpochVisitsEverySampleOnceInCompleteBatches() throws {
        let plan = try EpochPlan(count: 103, batchSize: 10, seed: 1)
        #expect(plan.batchesPerEpoch == 10)
        let loader = try DataLoader(dataset: NumberedDataset(count: 103), plan: plan)
        let seen = try labels(loader, batches: 10).flatMap { $0 }
        #expect(seen.count == 100 && Set(seen).count == 100)
        #expect(loader.position == DataPosition(epoch: 1, index: 0))
    }

    @Test func eachEpochHasItsOwnShuffleFixedByTheSeed() throws {
        let plan = try EpochPlan(count: 50, batchSize: 50, seed: 7)
        #expect(plan.shard(epoch: 0) != plan.shard(epoch: 1))
        #expect(plan.shard(epoch: 0) != Array(0..<50))
        #expect(plan.shard(epoch: 3) == (try EpochPlan(count: 50, batchSize: 50, seed: 7)).shard(epoch: 3))
        #expect(plan.shard(epoch: 0) != (try EpochPlan(count: 50, batchSize: 50, seed: 8)).shard(epoch: 0))
        #expect((try EpochPlan(count: 50, batchSize: 50, seed: 7, shuffle: false)).shard(epoch: 2) == Array(0..<50))
    }

    @Test func shuffledPositionsAreUniform() throws {
        // Where sample 0 lands over many epochs: each of 10 places about equally often.
        let plan = try EpochPlan(count: 10, batchSize: 10, seed: 3)
        var counts = [Int](repeating: 0, count: 10)
        for epoch in 0..<10_000 { counts[plan.shard(epoch: epoch).firstIndex(of: 0)!] += 1 }
        #expect(counts.allSatisfy { abs($0 - 1000) < 130 })
    }

    @Test func ranksGetDisjointEqualShardsCoveringTheEpoch() throws {
        let shards = try (0..<3).map { try EpochPlan(count: 100, batchSize: 8, seed: 2, rank: $0, worldSize: 3).shard(epoch: 4) }
        #expect(shards.allSatisfy { $0.count == 33 })
        #expect(Set(shards.flatMap { $0 }).count == 99)
        #expect(try EpochPlan(count: 100, batchSize: 8, seed: 2, rank: 0, worldSize: 3).batchesPerEpoch == 4)
    }

    @Test func theSameSeedGivesTheSameStream() throws {
        let plan = try EpochPlan(count: 40, batchSize: 8, seed: 9)
        let first = try labels(try DataLoader(dataset: NumberedDataset(count: 40), plan: plan), batches: 12)
        let second = try labels(try DataLoader(dataset: NumberedDataset(count: 40), plan: plan), batches: 12)
        #expect(first == second)
    }

    @Test func resumingFromAPositionContinuesTheStreamExactly() throws {
        let plan = try EpochPlan(count: 40, batchSize: 8, seed: 9)
        let whole = try DataLoader(dataset: NumberedDataset(count: 40), plan: plan)
        let stream = try labels(whole, batches: 13)
        let interrupted = try DataLoader(dataset: NumberedDataset(count: 40), plan: plan)
        _ = try labels(interrupted, batches: 7)
        let saved = interrupted.position
        #expect(saved == DataPosition(epoch: 1, index: 2))
        let resumed = try DataLoader(dataset: NumberedDataset(count: 40), plan: plan, start: saved)
        #expect(try labels(resumed, batches: 6) == Array(stream[7...]))
    }

    @Test func augmentedViewsAreTheSameAfterAResume() throws {
        let data = SyntheticShapes.make(count: 64, size: 16, seed: 1)
        let plan = try EpochPlan(count: 64, batchSize: 16, seed: 4)
        let augmentation = TwoViewAugmentation(side: 16, normalization: data.statistics)
        let straight = try DataLoader(dataset: data, plan: plan, augmentation: augmentation)
        let views = try (0..<3).map { _ in try straight.next().value.viewA }
        let resumed = try DataLoader(dataset: data, plan: plan, augmentation: augmentation, start: DataPosition(epoch: 0, index: 2))
        #expect(try resumed.next().value.viewA.equal(views[2]))
    }

    @Test func theLoaderReadsAheadInTheBackground() throws {
        let dataset = NumberedDataset(count: 100)
        let loader = try DataLoader(dataset: dataset, plan: try EpochPlan(count: 100, batchSize: 10, seed: 1), prefetch: 3)
        let deadline = Date().addingTimeInterval(5)
        while dataset.reads.load(ordering: .relaxed) < 6, Date() < deadline { usleep(1000) }
        // Without a call to next(): the queue (3) plus the prepared batch waiting to enter it,
        // and between the two stages one read batch plus the one waiting to join it.
        usleep(20_000)
        #expect(dataset.reads.load(ordering: .relaxed) == 6)
        _ = try loader.next()
    }

    @Test func stopReturnsOnlyOnceTheBackgroundThreadHasFinished() throws {
        final class Busy: @unchecked Sendable {
            let lock = NSLock()
            var preparing = false
        }
        let busy = Busy()
        let plan = try EpochPlan(count: 100, batchSize: 10, seed: 1)
        let loader = try DataLoader(dataset: NumberedDataset(count: 100), plan: plan, prefetch: 1) { batch, _ in
            busy.lock.withLock { busy.preparing = true }
            usleep(50_000)
            busy.lock.withLock { busy.preparing = false }
            return batch
        }
        _ = try loader.next()
        loader.stop()
        #expect(busy.lock.withLock { !busy.preparing })
        loader.stop()  // a second stop returns at once
    }

    @Test func aFailingBatchIsThrownByNextAndNothingHangs() throws {
        let plan = try EpochPlan(count: 30, batchSize: 10, seed: 0, shuffle: false)
        let loader = try DataLoader(dataset: NumberedDataset(count: 30, failAt: 25), plan: plan)
        _ = try loader.next()
        _ = try loader.next()
        let error = #expect(throws: DataError.self) { try loader.next() }
        #expect(error?.description == "numbered/25.png: unreadable image")
        #expect(throws: DataError.self) { try loader.next() }
    }

    @Test func impossiblePlansAreErrors() {
        #expect(throws: DataError.self) { try EpochPlan(count: 5, batchSize: 10, seed: 0) }
        #expect(throws: DataError.self) { try EpochPlan(count: 50, batchSize: 10, seed: 0, rank: 2, worldSize: 2) }
        #expect(throws: DataError.self) {
            try DataLoader(dataset: NumberedDataset(count: 50), plan: try EpochPlan(count: 50, batchSize: 10, seed: 0),
                           start: DataPosition(epoch: 0, index: 5))
        }
    }
}
