import Foundation
import Torch

/// Robustness to ImageNet-C-style corruptions (paper App. C, Fig. 15), block by block: a
/// linear classifier is fitted on each block's pooled features of clean training images,
/// then its error is measured on the test images under each corruption at each severity.
public struct RobustnessEvaluation {
    public var corruptions: [Corruption]
    public var severities: [Int]
    public var classifier: LinearProbe
    public var seed: UInt64
    public var trainLimit: Int?
    public var testLimit: Int?

    public init(corruptions: [Corruption] = Corruption.allCases, severities: [Int] = Array(Corruption.severities),
                classifier: LinearProbe = LinearProbe(epochs: 30), seed: UInt64 = 0,
                trainLimit: Int? = nil, testLimit: Int? = nil) {
        self.corruptions = corruptions
        self.severities = severities
        self.classifier = classifier
        self.seed = seed
        self.trainLimit = trainLimit
        self.testLimit = testLimit
    }

    /// Errors of `blocks` (numbered from 1) from `extractor`'s features, in batches of its
    /// batch size on its device. Its transform's resizing and cropping come before the
    /// corruption, as ImageNet-C corrupts the centre crops, and its normalisation after.
    /// `progress` hears one line per corruption.
    public func run(_ extractor: FeatureExtractor, train: any ImageDataset, test: any ImageDataset, blocks: [Int],
                    progress: (String) -> Void = { _ in }) throws -> CorruptionResult {
        try FeatureExtractor.validate(blocks: blocks)
        let classes = train.classCount
        let classifiers = try fitClassifiers(extractor, train: train, blocks: blocks, classes: classes)
        let clean = try errors(extractor, classifiers, test: test, blocks: blocks) { images, _ in images }
        progress("clean: error " + clean.map { String(format: "%.4f", $0) }.joined(separator: " "))
        var table: [Corruption: [[Double]]] = [:]
        for corruption in corruptions {
            table[corruption] = try severities.map { severity in
                try errors(extractor, classifiers, test: test, blocks: blocks) { images, batchIndex in
                    var mixer = SplitMix64(seed: seed, stream: 0x434F_5250, UInt64(batchIndex), // "CORP"
                                           UInt64(Corruption.allCases.firstIndex(of: corruption)!), UInt64(severity))
                    return corruption.apply(images, severity: severity,
                                            generator: Generator(seed: mixer.next(), device: extractor.device))
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

    /// Evaluates a run on `data` (default: the run's `data.dataset`), fitting on its train
    /// split and scoring on its test split; writes RUN/corruptions.json.
    @discardableResult
    public func run(_ evaluation: RunEvaluation, data: DatasetSpec? = nil,
                    blocks: [Int] = Array(FeatureExtractor.blockRange),
                    progress: (String) -> Void = { _ in }) throws -> CorruptionResult {
        try FeatureExtractor.validate(blocks: blocks)
        let data = data ?? evaluation.trainingDataset
        let (train, test) = (try data.load(split: .train), try data.load(split: .test))
        let result = try run(evaluation.extractor(for: test), train: train, test: test, blocks: blocks, progress: progress)
        try writeJSON(result, to: evaluation.run.corruptionsPath)
        return result
    }

    func fitClassifiers(_ extractor: FeatureExtractor, train: any ImageDataset, blocks: [Int], classes: Int) throws
        -> [LinearProbe.Classifier]
    {
        var collected = [[Tensor]](repeating: [], count: blocks.count)
        var labels: [Tensor] = []
        try forEachBatch(of: train, batchSize: extractor.batchSize, limit: trainLimit) { _, batch in
            try requireLabels(batch, of: train)
            let perBlock = extractor(normalize(crop(batch.images, extractor), extractor), blocks: blocks)
            for (slot, block) in blocks.enumerated() { collected[slot].append(perBlock[block]!) }
            labels.append(batch.labels)
        }
        let allLabels = Tensor.cat(labels).to(extractor.device)
        return collected.map { classifier.fit(FeatureSet(features: Tensor.cat($0), labels: allLabels, classCount: classes)) }
    }

    /// Error (fraction) of each block's classifier on the test images transformed by `corrupt`.
    func errors(_ extractor: FeatureExtractor, _ classifiers: [LinearProbe.Classifier], test: any ImageDataset, blocks: [Int],
                corrupt: (Tensor, Int) -> Tensor) throws -> [Double] {
        var wrong = [Int](repeating: 0, count: blocks.count)
        var seen = 0
        try forEachBatch(of: test, batchSize: extractor.batchSize, limit: testLimit) { index, batch in
            try requireLabels(batch, of: test)
            let perBlock = extractor(normalize(corrupt(crop(batch.images, extractor), index), extractor), blocks: blocks)
            let labels = batch.labels.to(extractor.device)
            for (slot, block) in blocks.enumerated() {
                wrong[slot] += (classifiers[slot].scores(perBlock[block]!).argmax(dim: 1) .!= labels).sum().itemInt()
            }
            seen += batch.labels.size(0)
        }
        guard seen > 0 else { throw RunError("\(test.name): no test images to evaluate") }
        return wrong.map { Double($0) / Double(seen) }
    }

    /// uint8 images → RGB float in [0, 1], resized and cropped as `extractor`'s transform
    /// does, on its device.
    func crop(_ images: Tensor, _ extractor: FeatureExtractor) -> Tensor {
        let transform = extractor.transform
        let geometry = EvaluationTransform(resize: transform.resize, crop: transform.crop,
                                           normalization: ChannelStatistics(mean: [0], std: [1]), replicateToRGB: true)
        return geometry.transform(toUnitFloat(images, device: extractor.device)).rgb
    }

    /// `extractor`'s normalisation of RGB images.
    func normalize(_ x: Tensor, _ extractor: FeatureExtractor) -> Tensor {
        normalized(x, extractor.transform.normalization.replicated(to: 3))
    }

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
