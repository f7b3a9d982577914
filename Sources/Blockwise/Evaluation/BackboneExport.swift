import Torch

/// A run's backbone as a stand-alone file for other tools: the weights of
/// RUN/backbone.safetensors, checked against the run's architecture, with torchvision's
/// names (conv1.weight, layer1.0.bn1.running_mean, …, no fc), so that
///
///     model = torchvision.models.resnet18(); model.fc = torch.nn.Identity()
///     model.load_state_dict(tensors, strict=True)
///
/// loads it. The metadata names the architecture, stem and width. Stock torchvision
/// constructors build only the `imagenet` stem at width 1: a `small`-stem backbone needs
/// conv1 = Conv2d(3, 64, 3, 1, 1, bias=False) and maxpool = Identity first.
public enum BackboneExport {
    /// What was written.
    public struct Summary: Sendable {
        public var path: String
        public var tensors: Int
        public var architecture: String
        public var stem: String
        public var width: Double

        /// Whether `torchvision.models.<architecture>()` loads the file as it is (fc aside).
        public var loadsIntoStockTorchvision: Bool { stem == ResNet.Stem.imagenet.rawValue && width == 1 }

        /// What to change in a stock torchvision model before loading, when it does not fit as it is.
        public var torchvisionNote: String? {
            var changes: [String] = []
            if stem == ResNet.Stem.small.rawValue {
                changes.append("set model.conv1 = nn.Conv2d(3, \(Int((64 * width).rounded())), 3, 1, 1, bias=False) and model.maxpool = nn.Identity()")
            }
            if width != 1 { changes.append("build the ResNet with every layer's channels times \(width)") }
            guard !changes.isEmpty else { return nil }
            return "torchvision.models.\(architecture)() has the imagenet stem at width 1: " + changes.joined(separator: "; ")
        }
    }

    /// Writes the backbone of `run` to `path` (atomically).
    @discardableResult
    public static func write(run: RunDirectory, to path: String) throws -> Summary {
        let config = try run.config()
        let backbone = try run.loadBackbone()
        let summary = Summary(path: path, tensors: backbone.orderedStateDict().count,
                              architecture: backbone.architecture.name, stem: backbone.stem.rawValue,
                              width: config.model.width)
        try backbone.save(safetensors: path, metadata: [
            "format": "torchvision", "architecture": summary.architecture, "stem": summary.stem,
            "width": "\(summary.width)", "source": run.backbonePath,
        ])
        return summary
    }
}
