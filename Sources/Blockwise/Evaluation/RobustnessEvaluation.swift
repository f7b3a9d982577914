import Foundation
import Torch

/// Robustness to ImageNet-C-style corruptions (paper App. C, Fig. 15), block by block: a
/// linear classifier is fitted on each block's pooled features of clean training images,
/// then its error is measured on the test images under each corruption at each severity.
public struct RobustnessEvaluation {
    public var corruptions: [Corruption]
    public var severities: [Int]
    /// The evaluation transform: its resizing and cropping come before the corruption, as
    /// ImageNet-C corrupts the centre crops, and its normalisation after.
    public var transform: EvaluationTransform
    public var classifier: LinearProbe
    public var batchSize: Int
    public var seed: UInt64
    public var trainLimit: Int?
    public var testLimit: Int?
    public var device: Device

    public init(corruptions: [Corruption] = Corruption.allCases, severities: [Int] = Array(Corruption.severities),
                transform: EvaluationTransform,
                classifier: LinearProbe = LinearProbe(epochs: 30), batchSize: Int = 256, seed: UInt64 = 0,
                trainLimit: Int? = nil, testLimit: Int? = nil, device: Device = .cpu) {
        self.corruptions = corruptions
        self.severities = severities
        self.transform = transform
        self.classifier = classifier
        self.batchSize = batchSize
        self.seed = seed
        self.trainLimit = trainLimit
        self.testLimit = testLimit
        self.device = device
    }

    /// Errors of `blocks` (numbered from 1); `progress` hears one line per corruption.
    public func run(_ features: BlockFeatures, train: any ImageDataset, test: any ImageDataset, blocks: [Int],
                    progress: (String) -> Void = { _ in }) throws -> CorruptionResult {
        let classes = train.classCount
        let classifiers = try fitClassifiers(features, train: train, blocks: blocks, classes: classes)
        let clean = try errors(features, classifiers, test: test, blocks: blocks) { images, _ in images }
        progress("clean: error " + clean.map { String(format: "%.4f", $0) }.joined(separator: " "))
        var table: [Corruption: [[Double]]] = [:]
        for corruption in corruptions {
            table[corruption] = try severities.map { severity in
                try errors(features, classifiers, test: test, blocks: blocks) { images, batchIndex in
                    var mixer = SplitMix64(seed: seed, stream: 0x434F_5250, UInt64(batchIndex), // "CORP"
                                           UInt64(Corruption.allCases.firstIndex(of: corruption)!), UInt64(severity))
                    return corruption.apply(images, severity: severity, generator: Generator(seed: mixer.next(), device: device))
                }
            }
            progress("\(corruption.rawValue): error per severity, block \(blocks.last!): " +
                     table[corruption]!.map { String(format: "%.4f", $0.last!) }.joined(separator: " "))
        }
        return CorruptionResult(blocks: blocks.enumerated().map { slot, block in
            let perCorruption = Dictionary(uniqueKeysWithValues: corruptions.map { c in (c.rawValue, table[c]!.map { $0[slot] }) })
            let means = perCorruption.values.map { $0.reduce(0, +) / Double($0.count) }
            return BlockRobustness(block: block, cleanError: clean[slot],
                                   meanError: means.isEmpty ? clean[slot] : means.reduce(0, +) / Double(means.count),
                                   corruptions: perCorruption)
        })
    }

    func fitClassifiers(_ features: BlockFeatures, train: any ImageDataset, blocks: [Int], classes: Int) throws
        -> [LinearProbe.Classifier]
    {
        var collected = [[Tensor]](repeating: [], count: blocks.count)
        var labels: [Tensor] = []
        try forEachBatch(of: train, batchSize: batchSize, limit: trainLimit) { _, batch in
            try requireLabels(batch, of: train)
            let perBlock = features(normalize(crop(batch.images)))
            for (slot, block) in blocks.enumerated() { collected[slot].append(perBlock[block - 1]) }
            labels.append(batch.labels)
        }
        let allLabels = Tensor.cat(labels).to(device)
        return collected.map { classifier.fit(FeatureSet(features: Tensor.cat($0), labels: allLabels, classCount: classes)) }
    }

    /// Error (fraction) of each block's classifier on the test images transformed by `corrupt`.
    func errors(_ features: BlockFeatures, _ classifiers: [LinearProbe.Classifier], test: any ImageDataset, blocks: [Int],
                corrupt: (Tensor, Int) -> Tensor) throws -> [Double] {
        var wrong = [Int](repeating: 0, count: blocks.count)
        var seen = 0
        try forEachBatch(of: test, batchSize: batchSize, limit: testLimit) { index, batch in
            try requireLabels(batch, of: test)
            let perBlock = features(normalize(corrupt(crop(batch.images), index)))
            let labels = batch.labels.to(device)
            for (slot, block) in blocks.enumerated() {
                wrong[slot] += (classifiers[slot].scores(perBlock[block - 1]).argmax(dim: 1) .!= labels).sum().itemInt()
            }
            seen += batch.labels.size(0)
        }
        guard seen > 0 else { throw RunError("\(test.name): no test images to evaluate") }
        return wrong.map { Double($0) / Double(seen) }
    }

    /// uint8 images → RGB float in [0, 1], resized and cropped, on the device.
    func crop(_ images: Tensor) -> Tensor {
        let geometry = EvaluationTransform(resize: transform.resize, crop: transform.crop,
                                           normalization: ChannelStatistics(mean: [0], std: [1]), replicateToRGB: true)
        return geometry.transform(toUnitFloat(images, device: device)).rgb
    }

    func normalize(_ x: Tensor) -> Tensor { normalized(x, transform.normalization.replicated(to: 3)) }

    func requireLabels(_ batch: LabelledBatch, of dataset: any ImageDataset) throws {
        if dataset.classCount < 2 || batch.labels.min().itemInt() < 0 {
            throw RunError("\(dataset.name): has unlabelled images; the robustness evaluation needs a labelled split")
        }
    }
}

extension Tensor {
    /// [B, 1, H, W] replicated to [B, 3, H, W]; RGB unchanged.
    var rgb: Tensor { size(1) == 1 ? expand([size(0), 3, size(2), size(3)]) : self }
}

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
