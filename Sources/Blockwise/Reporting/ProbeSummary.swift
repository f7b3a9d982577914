/// RUN/probe.json as the report reads it (written by `blockwise probe`); accuracies are fractions.
public struct ProbeSummary: Codable, Equatable, Sendable {
    public struct Block: Codable, Equatable, Sendable {
        public var block: Int
        public var top1: Double
        public var top5: Double?
        public var epochs: Int?
        public var featureDim: Int?

        enum CodingKeys: String, CodingKey { case block, top1, top5, epochs, featureDim = "feature_dim" }
    }

    public var method: String?
    public var dataset: String?
    public var split: String?
    public var blocks: [Block]
    public var concatenated: Block?
}
