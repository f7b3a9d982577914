import Foundation
import Torch
@testable import Blockwise

/// A run directory as `blockwise pretrain` leaves it, made by hand for tests: config.yaml of a
/// tiny ResNet-18 (width 1/16: 4, 8, 16, 32 channels) on synthetic 16-pixel shapes, a randomly
/// initialised backbone.safetensors, and optionally metrics.jsonl and probe.json.
final class RunFixture {
    let folder = TemporaryFolder()
    let run: RunDirectory
    let config: Config

    init(name: String = "run", overrides: [String] = [], backbone: Bool = true) throws {
        run = RunDirectory(folder.path + "/" + name)
        try run.create()
        var config = Config()
        for assignment in ["run.name=\(name)", "run.device=cpu", "model.width=0.0625", "data.image_size=16",
                           "data.dataset=synthetic:shapes?count=160&size=16&seed=1"] + overrides {
            try config.set(assignment)
        }
        self.config = config
        try config.yaml().write(toFile: run.configPath, atomically: true, encoding: .utf8)
        if backbone {
            try ModelFactory.backbone(config, generator: Generator(seed: 1)).save(safetensors: run.backbonePath)
        }
    }

    /// Step and epoch records of `steps` steps with decreasing losses for 4 blocks.
    func writeMetrics(steps: Int = 20) throws {
        let log = try MetricsLog(path: run.metricsPath)
        for step in 1...steps {
            let loss = (1...4).map { 100.0 / Double($0) / Double(step).squareRoot() }
            try log.append(["kind": "step", "phase": 0, "epoch": step / 10, "step": step, "lr": 0.1 * Double(step) / Double(steps),
                            "loss": loss, "images_per_second": 500.0, "peak_memory_mb": 42.0])
            if step % 10 == 0 {
                try log.append(["kind": "epoch", "phase": 0, "epoch": step / 10, "step": step, "loss": loss,
                                "online_probe_top1": [0.5, 0.6, NSNull(), 0.7]])
            }
        }
    }

    func writeProbe(_ top1: [Double]) throws {
        let blocks = top1.enumerated().map { ["block": $0.offset + 1, "top1": $0.element, "top5": 0.99, "epochs": 10, "feature_dim": 64] as [String: Any] }
        let probe: [String: Any] = ["method": "linear", "dataset": "synthetic", "split": "test", "blocks": blocks]
        try JSONSerialization.data(withJSONObject: probe).write(to: URL(fileURLWithPath: run.probePath))
    }
}
