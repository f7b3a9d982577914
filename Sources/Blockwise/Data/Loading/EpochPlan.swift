/// Which samples each batch of an epoch holds: a shuffle per epoch drawn from (seed, epoch),
/// split across `worldSize` data-parallel ranks, in batches of `batchSize` with the
/// incomplete last batch dropped. The same arguments give the same plan on every machine.
public struct EpochPlan: Sendable, Equatable {
    public var count: Int
    public var batchSize: Int
    public var seed: UInt64
    public var shuffle: Bool
    public var rank: Int
    public var worldSize: Int

    public init(count: Int, batchSize: Int, seed: UInt64, shuffle: Bool = true, rank: Int = 0, worldSize: Int = 1) throws {
        guard batchSize > 0 else { throw DataError("loader", "batch size \(batchSize) must be positive") }
        guard worldSize > 0, (0..<worldSize).contains(rank) else {
            throw DataError("loader", "rank \(rank) is not in 0..<\(worldSize) (the world size)")
        }
        guard count / worldSize >= batchSize else {
            throw DataError("loader", "\(count) samples over \(worldSize) rank(s) do not fill one batch of \(batchSize)")
        }
        self.count = count
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.rank = rank
        self.worldSize = worldSize
    }

    /// Complete batches each rank gets per epoch.
    public var batchesPerEpoch: Int { count / worldSize / batchSize }

    /// This rank's samples in epoch `epoch`, in order: every `worldSize`-th of the epoch's
    /// permutation (after dropping the remainder that would make shards unequal), as
    /// PyTorch's DistributedSampler with drop_last.
    public func shard(epoch: Int) -> [Int] {
        var order = Array(0..<count)
        if shuffle {
            var random = SplitMix64(seed: seed, stream: UInt64(epoch))
            // Fisher–Yates with unbiased bounded draws, so the order never depends on the
            // standard library's shuffle algorithm.
            for i in stride(from: count - 1, to: 0, by: -1) {
                order.swapAt(i, random.below(i + 1))
            }
        }
        let total = count / worldSize * worldSize
        return stride(from: rank, to: total, by: worldSize).map { order[$0] }
    }

    /// The samples of batch `index` of epoch `epoch`.
    public func batch(epoch: Int, index: Int) -> [Int] {
        Array(shard(epoch: epoch)[(index * batchSize)..<((index + 1) * batchSize)])
    }
}

extension SplitMix64 {
    /// Uniform in 0..<bound, by Lemire's multiply-and-reject method.
    mutating func below(_ bound: Int) -> Int {
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }
}

/// Where a loader is in its stream of batches: the next batch it will deliver. Saved in
/// checkpoints so a resumed run continues with the very batch it would have seen.
public struct DataPosition: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var epoch: Int
    public var index: Int

    public init(epoch: Int = 0, index: Int = 0) {
        self.epoch = epoch
        self.index = index
    }

    public var description: String { "epoch \(epoch), batch \(index)" }
}
