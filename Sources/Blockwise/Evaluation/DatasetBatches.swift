/// Runs `body` on consecutive batches of the first `limit` images of `dataset` (all by
/// default), in order: the one pass over the data that feature extraction and the analyses make.
func forEachBatch(of dataset: any ImageDataset, batchSize: Int, limit: Int? = nil,
                  _ body: (_ index: Int, _ batch: LabelledBatch) throws -> Void) throws {
    let count = min(dataset.count, limit ?? dataset.count)
    var start = 0, index = 0
    while start < count {
        let end = min(count, start + batchSize)
        try body(index, try dataset.batch(Array(start..<end)))
        start = end
        index += 1
    }
}
