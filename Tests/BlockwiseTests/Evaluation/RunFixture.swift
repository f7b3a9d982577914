import Foundation
import Torch
@testable import Blockwise

/// A run directory made by hand, as `blockwise pretrain` leaves one: config.yaml with the
/// given overrides, and backbone.safetensors (a backbone of that configuration drawn from
/// `seed`, unless one is given).
struct RunFixture {
    let folder = TemporaryFolder()
    let run: RunDirectory
    let config: Config

    /// A ResNet-18 at width 0.125 with the small stem, on 16-pixel synthetic shapes.
    static let tinySettings = [
        "model.arch=resnet18", "model.stem=small", "model.width=0.125",
        "data.dataset=synthetic:shapes?count=100&size=16&seed=1", "data.image_size=16", "run.device=cpu",
    ]

    init(_ settings: [String] = RunFixture.tinySettings, backbone: ResNet? = nil, seed: UInt64 = 0) throws {
        var config = Config()
        for setting in settings { try config.set(setting) }
        self.config = config
        run = RunDirectory(folder.path + "/run")
        try run.create()
        try config.yaml().write(toFile: run.configPath, atomically: true, encoding: .utf8)
        try (backbone ?? ModelFactory.backbone(config, generator: Generator(seed: seed))).save(safetensors: run.backbonePath)
    }
}
