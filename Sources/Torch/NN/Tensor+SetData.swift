import CTorch

extension Tensor {
    /// Replaces this tensor's data by `data`'s, of any shape, dtype or device, keeping the
    /// tensor object and its autograd leaf status (`tensor.data = data` in PyTorch).
    public func setData(_ data: Tensor) {
        withExtendedLifetime(data) { check(ct_set_data(handle, data.handle)) }
    }
}
