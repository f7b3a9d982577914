import Foundation

/// RUN/probe.json: the accuracy of a probe at each block (fractions), e.g.
///
///     {"method":"linear","dataset":"fashion-mnist","split":"test",
///      "blocks":[{"block":1,"method":"linear","top1":0.81,"top5":0.99,"epochs":100,"feature_dim":64}, …],
///      "concatenated":{"block":0,…}}
///
/// `epochs` is 0 for kNN, whose entries add `k`; the entry of all blocks concatenated
/// (optional) has block 0. Written and read with `writeJSON` / `readJSON`, by `blockwise
/// probe`, the HTML report and the TensorBoard export.
public struct ProbeReport: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public var block: Int
        /// The report's method, repeated; hand-written reports may leave it out.
        public var method: String?
        public var top1: Double
        public var top5: Double
        public var epochs: Int
        public var featureDim: Int
        public var k: Int?

        public init(block: Int, method: String?, top1: Double, top5: Double, epochs: Int, featureDim: Int, k: Int? = nil) {
            self.block = block
            self.method = method
            self.top1 = top1
            self.top5 = top5
            self.epochs = epochs
            self.featureDim = featureDim
            self.k = k
        }

        enum CodingKeys: String, CodingKey {
            case block, method, top1, top5, epochs, featureDim = "feature_dim", k
        }
    }

    public var method: String
    public var dataset: String
    public var split: String
    public var blocks: [Entry]
    public var concatenated: Entry?

    public init(method: String, dataset: String, split: String, blocks: [Entry], concatenated: Entry? = nil) {
        self.method = method
        self.dataset = dataset
        self.split = split
        self.blocks = blocks
        self.concatenated = concatenated
    }

    /// A table for the terminal: one row per block.
    public var table: String {
        var lines = ["\(method) probe on \(dataset) (\(split))", "block   dim    top-1    top-5"]
        for entry in blocks + (concatenated.map { [$0] } ?? []) {
            let name = entry.block == 0 ? "all" : "\(entry.block)"
            lines.append(name.padding(toLength: 6, withPad: " ", startingAt: 0)
                + String(format: "%5d  %6.2f%%  %6.2f%%", entry.featureDim, entry.top1 * 100, entry.top5 * 100))
        }
        return lines.joined(separator: "\n")
    }
}
