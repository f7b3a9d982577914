import Foundation
import Torch

/// The main job (`blockwise demo`, what `make demo` runs): the paper's key comparison at
/// laptop scale (Fig. 4). A small ResNet is pretrained on Fashion-MNIST (the synthetic set
/// when it is not installed) with simultaneous blockwise Barlow Twins, and again end to end;
/// with the untrained network as a third, random baseline, every block of the three is probed
/// with a linear classifier, and the accuracies are shown side by side and in report.html,
/// with each block's cross-correlation between two views (Fig. 8).
public struct MainJob {
    /// The runs compared: name, and the mode it trains in (nil: the untrained network).
    public static let variants: [(name: String, mode: TrainingMode?)] = [
        ("random-init", nil),
        ("end-to-end", .endToEnd),
        ("simultaneous", .simultaneous),
    ]

    public var base: Config
    /// Where the runs go: ROOT/random-init, ROOT/end-to-end, ROOT/simultaneous, ROOT/report.html.
    public var root: String
    public var probeEpochs: Int
    /// Test images of the cross-correlation analysis.
    public var correlationImages: Int

    public init(base: Config, root: String, probeEpochs: Int = 20, correlationImages: Int = 2000) {
        self.base = base
        self.root = root
        self.probeEpochs = probeEpochs
        self.correlationImages = correlationImages
    }

    public struct Result: Sendable {
        /// Top-1 accuracy per block (1…4) of each variant, by variant name.
        public var top1: [String: [Double]]
        public var table: String
        public var reportPath: String
    }

    /// `config` on data this machine has: when it asks for Fashion-MNIST and the Debian package
    /// is not installed, the synthetic shapes at the same size instead, said in the log.
    public static func withInstalledData(_ config: Config, log: (String) -> Void) -> Config {
        let installed = DatasetPresence.scan().first { $0.name == "fashion-mnist" }?.installed == true
        guard config.data.dataset.kind == .fashionMNIST, !installed else { return config }
        log("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): using the synthetic shapes")
        var config = config
        config.data.dataset = DatasetSpec(kind: .synthetic, argument: "shapes", options: ["size": "28", "count": "12000"])
        return config
    }

    public func run(log: @escaping (String) -> Void) throws -> Result {
        var top1: [String: [Double]] = [:]
        var runs: [RunDirectory] = []
        for variant in Self.variants {
            var config = base
            config.run.name = variant.name
            if let mode = variant.mode { config.training.mode = mode }
            let run = RunDirectory(root + "/" + variant.name)
            if FileManager.default.fileExists(atPath: run.path) { try FileManager.default.removeItem(atPath: run.path) }
            let start = Date()
            if variant.mode != nil {
                log("== pretraining \(variant.name) (\(config.data.dataset), \(config.training.epochs) epoch(s))")
                _ = try Trainer(config: config, run: run, log: log).train()
            } else {
                // The starting point of the trained runs: the same seed draws the same backbone.
                try run.create(config: config)
                try ResNet(config.model, generator: Generator(seed: UInt64(config.run.seed)))
                    .save(safetensors: run.backbonePath)
            }
            log("== probing \(variant.name): a linear classifier on each block's pooled output (\(probeEpochs) epochs), "
                + "and the cross-correlation of two views")
            let evaluation = try RunEvaluation(run: run)
            let report = try Probe(method: .linear, linear: LinearProbe(epochs: probeEpochs)).run(evaluation)
            top1[variant.name] = report.blocks.map(\.top1)
            try CorrelationAnalysis.run(evaluation, limit: correlationImages)
            log(String(format: "   done in %.0f s", Date().timeIntervalSince(start)))
            runs.append(run)
        }
        let reportPath = root + "/report.html"
        try HTMLReport(runs: try runs.map { try RunReportData(run: $0) }).write(to: reportPath)
        return Result(top1: top1, table: Self.table(top1), reportPath: reportPath)
    }

    /// Per-block top-1 accuracy of the variants side by side.
    public static func table(_ top1: [String: [Double]]) -> String {
        let names = variants.map(\.name).filter { top1[$0] != nil }
        var lines = ["block  " + names.map { $0.padding(toLength: 14, withPad: " ", startingAt: 0) }.joined()]
        let blocks = top1.values.map(\.count).max() ?? 0
        for b in 0..<blocks {
            lines.append("\(b + 1)      " + names.map { name in
                String(format: "%5.1f%%", 100 * top1[name]![b]).padding(toLength: 14, withPad: " ", startingAt: 0)
            }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
