/// Zeroes each element with probability `p` in training and scales the others by
/// 1/(1 − p) (`nn.Dropout`); the identity in evaluation. Draws from the default generator.
public final class Dropout: Module, UnaryLayer {
    public let p: Double

    public init(p: Double = 0.5) {
        precondition((0...1).contains(p), "Dropout: probability must be in [0, 1], got \(p)")
        self.p = p
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { dropout(x, p: p, training: training) }
}
