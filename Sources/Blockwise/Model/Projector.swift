import Torch

/// The projector after a pooling head, with layer sizes like [8192, 8192, 8192]: Linear (no
/// bias) → BatchNorm1d → ReLU between layers, and a last Linear without bias, as the Barlow
/// Twins reference code builds it. No layers give the identity.
public final class Projector: Module, UnaryLayer {
    public let sizes: [Int]
    let layers: Sequential

    public init(inputDimension: Int, layerSizes: [Int], generator: Generator? = nil) {
        precondition(layerSizes.allSatisfy { $0 > 0 }, "projector layer sizes must be positive")
        sizes = [inputDimension] + layerSizes
        var modules: [any UnaryLayer] = []
        for i in 0..<Swift.max(0, sizes.count - 2) {
            modules.append(Linear(sizes[i], sizes[i + 1], bias: false, generator: generator))
            modules.append(BatchNorm1d(sizes[i + 1]))
            modules.append(ReLU(inplace: true))
        }
        if sizes.count >= 2 {
            modules.append(Linear(sizes[sizes.count - 2], sizes[sizes.count - 1], bias: false, generator: generator))
        }
        layers = Sequential(modules)
        super.init()
    }

    public var outputDimension: Int { sizes.last! }

    public func callAsFunction(_ x: Tensor) -> Tensor { layers(x) }
}
