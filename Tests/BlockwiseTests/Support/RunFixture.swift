import Foundation
import Torch
@testable import Blockwise

/// A run directory as `blockwise pretrain` leaves it, made by hand for tests: config.yaml (a
/// tiny ResNet-18 at width 1/8 on 16-pixel synthetic shapes, plus `overrides`),
/// backbone.safetensors (drawn from `seed`, or the given backbone) unless `writeBackbone` is
/// false, and optionally metrics.jsonl and probe.json.
final class RunFixture {
    let folder = TemporaryFolder()
    let run: RunDirectory
    let config: Config

    static let tinySettings = [
        "model.arch=resnet18", "model.stem=small", "model.width=0.125",
        "data.dataset=synthetic:shapes?count=100&size=16&seed=1", "data.image_size=16", "run.device=cpu",
    ]

    /// The analyses' tests: width 1/16 (4, 8, 16, 32 channels), 160 training and 32 test images.
    static let sixteenthWidth = ["model.width=0.0625", "data.dataset=synthetic:shapes?count=160&size=16&seed=1"]

    init(_ settings: [String] = RunFixture.tinySettings, name: String = "run", overrides: [String] = [],
         backbone: ResNet? = nil, seed: UInt64 = 0, writeBackbone: Bool = true) throws {
        run = RunDirectory(folder.path + "/" + name)
        var config = Config()
        for assignment in settings + ["run.name=\(name)"] + overrides { try config.set(assignment) }
        self.config = config
        try run.create(config: config)
        if writeBackbone {
            try (backbone ?? ResNet(config.model, generator: Generator(seed: seed))).save(safetensors: run.backbonePath)
        }
    }

    /// Step and epoch records of `steps` steps with decreasing losses for 4 blocks, or for the
    /// network as one block.
    func writeMetrics(steps: Int = 20, owner: MetricsRecord.Owner = .blocks) throws {
        let log = try MetricsLog(path: run.metricsPath)
        let entries = owner == .network ? 1 : 4
        for step in 1...steps {
            let loss = (1...entries).map { 100.0 / Double($0) / Double(step).squareRoot() }
            try log.append(.step(phase: 0, epoch: (step - 1) / 10, step: step, owner: owner, loss: loss,
                                 lr: 0.1 * Double(step) / Double(steps), imagesPerSecond: 500, peakMemoryMB: 42))
            if step % 10 == 0 {
                try log.append(.epoch(phase: 0, epoch: step / 10, step: step, owner: owner, loss: loss,
                                      onlineProbeTop1: Array([0.5, 0.6, nil, 0.7].prefix(entries))))
            }
        }
    }

    func writeProbe(_ top1: [Double]) throws {
        let blocks = top1.enumerated().map { ["block": $0.offset + 1, "top1": $0.element, "top5": 0.99, "epochs": 10, "feature_dim": 64] as [String: Any] }
        let probe: [String: Any] = ["method": "linear", "dataset": "synthetic", "split": "test", "blocks": blocks]
        try JSONSerialization.data(withJSONObject: probe).write(to: URL(fileURLWithPath: run.probePath))
    }
}
