/// RUN/corruptions.json.
public struct CorruptionResult: Codable, Equatable, Sendable {
    public var blocks: [BlockRobustness]

    public init(blocks: [BlockRobustness]) { self.blocks = blocks }
}

/// One block's line of RUN/corruptions.json: errors as fractions, per corruption one per severity.
public struct BlockRobustness: Codable, Equatable, Sendable {
    public var block: Int
    public var cleanError: Double
    /// The mean over corruptions of the mean over severities (ImageNet-C's unnormalised mean error).
    public var meanError: Double
    public var corruptions: [String: [Double]]

    enum CodingKeys: String, CodingKey {
        case block, cleanError = "clean_error", meanError = "mean_error", corruptions
    }

    public init(block: Int, cleanError: Double, meanError: Double, corruptions: [String: [Double]]) {
        self.block = block
        self.cleanError = cleanError
        self.meanError = meanError
        self.corruptions = corruptions
    }
}
