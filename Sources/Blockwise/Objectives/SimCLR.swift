import Torch

/// SimCLR's NT-Xent loss (Chen et al. 2020): the 2N embeddings are L2-normalised; each one's
/// positive is the other view of the same image and its 2N − 2 negatives are all the rest:
///
///     ℓ_i = −log( exp(s_i,p(i)/τ) / Σ_{k≠i} exp(s_ik/τ) ),  L = mean over the 2N embeddings
public struct SimCLR: Objective {
    public var temperature: Double
    /// Data-parallel ranks: every rank's embeddings are gathered, so each embedding's
    /// negatives are those of the global batch.
    public var group: ProcessGroup?

    public init(temperature: Double = 0.1, group: ProcessGroup? = nil) {
        self.temperature = temperature
        self.group = group
    }

    public func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor {
        let (zA, zB) = (wholeBatch(zA, over: group), wholeBatch(zB, over: group))
        let n = zA.size(0)
        let z = normalize(Tensor.cat([zA, zB], dim: 0), dim: 1)
        let self_ = Tensor.eye(2 * n, dtype: .bool, device: z.device)
        // An embedding is never its own candidate: −∞ takes it out of the softmax.
        let logits = (z.mm(z.t) / temperature).maskedFill(self_, .double(-.infinity))
        let positives = Tensor.cat([Tensor.arange(n, 2 * n, device: z.device), Tensor.arange(0, n, device: z.device)])
        return crossEntropy(logits, positives)
    }
}
