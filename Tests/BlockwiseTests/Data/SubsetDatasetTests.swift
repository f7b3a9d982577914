import Testing
import Torch
@testable import Blockwise

@Suite struct SubsetDatasetTests {
    @Test func limitTakesTheSameSeededSubsetEveryTime() throws {
        let spec = try DatasetSpec(parsing: "synthetic:shapes?count=100&size=8&limit=10")
        let a = try spec.load(split: .train)
        let b = try spec.load(split: .train)
        #expect(a.count == 10)
        #expect(try a.batch(Array(0..<10)).images.equal(try b.batch(Array(0..<10)).images))
        let full = try DatasetSpec(parsing: "synthetic:shapes?count=100&size=8").load(split: .train)
        let subset = try #require(a as? SubsetDataset)
        #expect(Set(subset.indices).count == 10 && subset.indices.allSatisfy { $0 < 100 })
        #expect(try a.batch([3]).images.equal(try full.batch([subset.indices[3]]).images))
    }

    @Test func aLimitAboveTheSizeKeepsEverythingAndZeroIsRejected() throws {
        #expect(try DatasetSpec(parsing: "synthetic:shapes?count=20&size=8&limit=50").load(split: .train).count == 20)
        #expect(throws: DataError.self) { try DatasetSpec(parsing: "synthetic:shapes?count=20&size=8&limit=0").load(split: .train) }
    }
}
