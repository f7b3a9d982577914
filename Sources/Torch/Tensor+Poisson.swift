import CTorch

extension Tensor {
    /// Poisson samples, one per element, with the elements as rates (`torch.poisson`); the
    /// result has the rates' dtype.
    public func poisson(generator: Generator? = nil) -> Tensor {
        withExtendedLifetime(generator) { Tensor.make { ct_poisson(handle, generator?.handle, $0) } }
    }
}
