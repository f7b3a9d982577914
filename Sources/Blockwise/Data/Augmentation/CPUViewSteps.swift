import CImaging
import Torch

extension TwoViewAugmentation {
    /// One view's steps after the crop (`applyAfterCrop`) and its normalisation, on the CPU in C:
    /// one `ci_finish_view` per image, whose pixels stay in the cache through every step, with
    /// torchvision's float operations in its order. `crops`: uint8 (scaled by 1/255, as
    /// `toUnitFloat` scales them) or float32 in [0, 1], [B, 1 or 3, side, side]. nil where it
    /// does not apply (a GPU, another dtype, a tensor in autograd): the tensor ops run there.
    func finishedOnCPU(_ parameters: ViewParameters, crops: Tensor) -> Tensor? {
        guard !crops.device.isCUDA, !crops.requiresGrad, crops.dtype == .uint8 || crops.dtype == .float32, crops.rank == 4,
              crops.size(0) > 0, crops.size(1) == 1 || crops.size(1) == 3, parameters.count == crops.size(0) else { return nil }
        let (b, channels, height, width) = (crops.size(0), crops.size(1), crops.size(2), crops.size(3))
        let pixels = height * width, taps = blurKernelSize(side: height)
        guard taps / 2 < min(height, width) else { return nil }  // reflect padding's limit, as in gaussianBlur

        let output: Tensor
        if crops.dtype == .uint8 {
            output = Tensor.empty([b, 3, height, width])
            let bytes = crops.contiguous()
            bytes.withUnsafeMutableBytes { input in
                output.withUnsafeMutableBytes { images in
                    let input = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    let images = images.baseAddress!.assumingMemoryBound(to: Float.self)
                    for n in 0..<b { ci_unit_image(input + n * channels * pixels, Int64(channels), Int64(pixels), images + n * 3 * pixels) }
                }
            }
        } else {
            output = crops.expand([b, 3, height, width]).contiguous().clone()
        }
        // Each blurred image's kernel, once per plane: [blurred, 3, taps].
        let blurred = (0..<b).filter { parameters.blur[$0] }
        let kernels = blurred.isEmpty ? Tensor.zeros([1]) :
            gaussianKernels(size: taps, sigma: Tensor(blurred.map { Float(parameters.blurSigma[$0]) }), dtype: .float32, device: .cpu)
                .unsqueeze(1).expand([blurred.count, 3, taps]).contiguous()
        let statistics = normalization.replicated(to: 3)
        var mean = statistics.mean.map { Float($0) }, std = statistics.std.map { Float($0) }
        var scratch = [Float](repeating: 0, count: pixels + width + taps - 1)
        output.withUnsafeMutableBytes { images in
            kernels.withUnsafeMutableBytes { weights in
                let images = images.baseAddress!.assumingMemoryBound(to: Float.self)
                let weights = weights.baseAddress!.assumingMemoryBound(to: Float.self)
                var nextBlurred = 0
                for n in 0..<b {
                    var steps = ci_view_steps()
                    let order = parameters.jitterOrder[n].map { Int32($0) }, factors = parameters.jitterFactors[n].map { Float($0) }
                    steps.jitter = parameters.jitter[n] ? 1 : 0
                    steps.order = (order[0], order[1], order[2], order[3])
                    steps.factors = (factors[0], factors[1], factors[2], factors[3])
                    steps.grayscale = parameters.grayscale[n] ? 1 : 0
                    if parameters.blur[n] {
                        steps.blur_kernels = UnsafePointer(weights + nextBlurred * 3 * taps)
                        steps.blur_taps = Int64(taps)
                        nextBlurred += 1
                    }
                    steps.solarize = parameters.solarize[n] ? 1 : 0
                    ci_finish_view(images + n * 3 * pixels, Int64(height), Int64(width), &steps, &mean, &std, &scratch)
                }
            }
        }
        return output
    }
}
