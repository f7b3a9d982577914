import Torch

/// The evaluation of a frozen backbone at each block (§4: "a linear classifier on top of the
/// frozen representations at the output of the different blocks"): a linear probe or a
/// weighted kNN per block, optionally one more on every requested block concatenated.
public struct Probe: Sendable {
    public enum Method: String, Sendable, CaseIterable {
        case linear, knn
    }

    public var method: Method
    public var blocks: [Int]
    /// Also probe the requested blocks' features side by side.
    public var concatenate: Bool
    public var linear: LinearProbe
    public var knn: KNNClassifier

    public init(method: Method = .linear, blocks: [Int] = [1, 2, 3, 4], concatenate: Bool = false,
                linear: LinearProbe = LinearProbe(), knn: KNNClassifier = KNNClassifier(k: 200, temperature: 0.07)) {
        self.method = method
        self.blocks = blocks
        self.concatenate = concatenate
        self.linear = linear
        self.knn = knn
    }

    /// One entry per block (and one for the concatenation, block 0), fitting on `train` and
    /// scoring on `test`: features by block. Throws when a split has unlabelled images.
    public func evaluate(train: [Int: FeatureSet], test: [Int: FeatureSet]) throws
        -> (blocks: [ProbeReport.Entry], concatenated: ProbeReport.Entry?)
    {
        try FeatureExtractor.validate(blocks: blocks)
        let entries = blocks.map { entry(block: $0, train: train[$0]!, test: test[$0]!) }
        let all = concatenate
            ? entry(block: 0, train: .concatenated(blocks.map { train[$0]! }), test: .concatenated(blocks.map { test[$0]! }))
            : nil
        return (entries, all)
    }

    func entry(block: Int, train: FeatureSet, test: FeatureSet) -> ProbeReport.Entry {
        switch method {
        case .linear:
            let (top1, top5) = linear.evaluate(train: train, test: test)
            return .init(block: block, method: method.rawValue, top1: top1, top5: top5, epochs: linear.epochs,
                         featureDim: train.dimension)
        case .knn:
            let (top1, top5) = knn.evaluate(train: train.features, trainLabels: train.labels, test: test.features,
                                            testLabels: test.labels, classes: train.classCount)
            return .init(block: block, method: method.rawValue, top1: top1, top5: top5, epochs: 0,
                         featureDim: train.dimension, k: knn.k)
        }
    }

    /// Probes a run: features of `trainSplit` (to fit) and `testSplit` (to score) of `data`
    /// (default: the run's `data.dataset`), cached in the run; writes RUN/probe.json.
    @discardableResult
    public func run(_ evaluation: RunEvaluation, data: DatasetSpec? = nil, trainSplit: DatasetSplit = .train,
                    testSplit: DatasetSplit = .test) throws -> ProbeReport {
        try FeatureExtractor.validate(blocks: blocks)
        let data = data ?? evaluation.trainingDataset
        func unlabelled(_ split: DatasetSplit) -> RunError {
            RunError("\(data)/\(split.rawValue) has unlabelled images: a probe needs labels to fit and score "
                     + "(use labelled splits, e.g. train and test, not unlabeled or pretrain)")
        }
        // Known before any feature is computed: these splits hold unlabelled images.
        if let split = [trainSplit, testSplit].first(where: { $0 == .unlabeled || $0 == .pretrain }) { throw unlabelled(split) }
        var sets: [[Int: FeatureSet]] = []
        for split in [trainSplit, testSplit] {
            let features = try evaluation.features(data: data, split: split, blocks: blocks)
            guard features[blocks[0]]!.isLabelled else { throw unlabelled(split) }
            sets.append(features.mapValues { $0.to(evaluation.device) })
        }
        let (entries, all) = try evaluate(train: sets[0], test: sets[1])
        let report = ProbeReport(method: method.rawValue, dataset: data.description, split: testSplit.rawValue,
                                 blocks: entries, concatenated: all)
        try writeJSON(report, to: evaluation.run.probePath)
        return report
    }
}
