import CTorch

extension Module {
    /// Moves every parameter and buffer to `device` and converts the floating-point ones
    /// to `dtype` (`module.to(device, dtype)`; integer buffers such as BatchNorm's
    /// `num_batches_tracked` keep their type). The conversion is in place: each `Tensor`
    /// object stays the same, so optimizers created before keep working. Gradients move too.
    public func to(device: Device? = nil, dtype: DType? = nil) {
        var seen = Set<ObjectIdentifier>()
        let tensors = stateEntries().map(\.tensor) + namedBuffers().map(\.tensor)
        withNoGrad {
            for tensor in tensors where seen.insert(ObjectIdentifier(tensor)).inserted {
                let target = tensor.dtype.isFloatingPoint ? dtype : nil
                guard (device.map { $0 != tensor.device } ?? false) || (target.map { $0 != tensor.dtype } ?? false)
                else { continue }
                tensor.setData(tensor.to(device, target))
                if let grad = tensor.grad { grad.setData(grad.to(device, target)) }
            }
        }
    }
}

extension Tensor {
    /// Replaces this tensor's data by `data`'s, of any shape, dtype or device, keeping the
    /// tensor object and its autograd leaf status (`tensor.data = data` in PyTorch).
    public func setData(_ data: Tensor) {
        withExtendedLifetime(data) { check(ct_set_data(handle, data.handle)) }
    }
}
