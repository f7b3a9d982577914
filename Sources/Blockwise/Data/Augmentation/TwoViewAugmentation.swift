import Torch

/// Barlow Twins' two asymmetric views of a batch, made on the training device.
public struct TwoViewAugmentation: Sendable, Equatable, Hashable {
    public var viewA: ViewAugmentation
    public var viewB: ViewAugmentation
    /// Side of the square views: 32 for CIFAR-like images, 96 for STL-10, 224 for ImageNet.
    public var side: Int
    /// Normalisation applied last (`transforms.Normalize`), per RGB channel.
    public var normalization: ChannelStatistics

    public init(viewA: ViewAugmentation = .barlowTwinsA, viewB: ViewAugmentation = .barlowTwinsB, side: Int,
                normalization: ChannelStatistics) {
        self.viewA = viewA
        self.viewB = viewB
        self.side = side
        self.normalization = normalization.replicated(to: 3)
    }

    /// Barlow Twins' recipe for a dataset: its view size and its statistics.
    public static func barlowTwins(for dataset: any ImageDataset, side: Int) -> TwoViewAugmentation {
        TwoViewAugmentation(side: side, normalization: dataset.statistics)
    }

    /// The parameters of both views for a batch of `count` images of `height`×`width`.
    public func draw(count: Int, height: Int, width: Int, generator: Generator) -> (ViewParameters, ViewParameters) {
        (ViewParameters.draw(viewA, count: count, height: height, width: width, generator: generator),
         ViewParameters.draw(viewB, count: count, height: height, width: width, generator: generator))
    }

    /// Two normalised float views [B, 3, side, side] of uint8 `images` [B, C, H, W], on `device`.
    ///
    /// With `shard` (rank r of w data-parallel ranks), `images` are r's samples of a global
    /// batch of w·B, which `EpochPlan` deals out in turn (global sample i goes to rank i mod w):
    /// the parameters are drawn for the whole global batch and r takes rows r, r + w, …, so
    /// each sample gets the views it gets in a one-process run.
    public func callAsFunction(_ images: Tensor, generator: Generator, device: Device = .cpu,
                               shard: (rank: Int, count: Int) = (0, 1)) -> (Tensor, Tensor) {
        let (a, b) = draw(count: images.size(0), height: images.size(2), width: images.size(3), generator: generator,
                          shard: shard)
        return apply(a, b, to: images, device: device)
    }

    /// The parameters of a rank's `count` samples, drawn for the whole global batch of the
    /// `shard.count` ranks (see `callAsFunction`).
    public func draw(count: Int, height: Int, width: Int, generator: Generator,
                     shard: (rank: Int, count: Int)) -> (ViewParameters, ViewParameters) {
        let (a, b) = draw(count: count * shard.count, height: height, width: width, generator: generator)
        guard shard.count > 1 else { return (a, b) }
        let rows = (0..<count).map { shard.rank + $0 * shard.count }
        return (a.rows(rows), b.rows(rows))
    }

    /// View A (`which` 0) or B (1) of crops cut while decoding (`CroppedViews`, image folders),
    /// with its parameters: the steps after the crop on `device`, then normalisation.
    public func croppedView(_ which: Int, _ parameters: ViewParameters, _ views: CroppedViews, device: Device = .cpu) -> Tensor {
        let (view, crops) = which == 0 ? (viewA, views.viewA) : (viewB, views.viewB)
        if !device.isCUDA, let finished = finishedOnCPU(parameters, crops: crops) { return finished }
        return normalize(view.applyAfterCrop(parameters, to: toUnitFloat(crops, device: device)))
    }

    /// Both views for drawn parameters. The images go to the device once, for both views.
    public func apply(_ a: ViewParameters, _ b: ViewParameters, to images: Tensor, device: Device = .cpu) -> (Tensor, Tensor) {
        let x = toUnitFloat(images, device: device)
        return (view(0, a, ofUnitFloat: x), view(1, b, ofUnitFloat: x))
    }

    /// View A (`which` 0) or B (1) of float images in [0, 1] on the training device.
    func view(_ which: Int, _ parameters: ViewParameters, ofUnitFloat x: Tensor) -> Tensor {
        let view = which == 0 ? viewA : viewB
        let crops = view.resizedCrop(parameters, of: x, side: side)
        return finishedOnCPU(parameters, crops: crops) ?? normalize(view.applyAfterCrop(parameters, to: crops))
    }

    func normalize(_ x: Tensor) -> Tensor { normalized(x, normalization) }
}

/// uint8 images moved to `device` (as bytes, 4× less to copy) and scaled to float [0, 1]. To a
/// GPU they go from page-locked memory, so the copy does not wait for the device.
public func toUnitFloat(_ images: Tensor, device: Device) -> Tensor {
    (device.isCUDA && images.device == .cpu ? images.pinnedMemory() : images).to(device, nil, nonBlocking: true).to(.float32) / 255.0
}

/// (x − mean) / std per channel.
public func normalized(_ x: Tensor, _ statistics: ChannelStatistics) -> Tensor {
    let c = x.size(1)
    let s = statistics.replicated(to: c)
    let mean = Tensor(s.mean.map { Float($0) }, shape: [1, c, 1, 1]).to(x.device, x.dtype)
    let std = Tensor(s.std.map { Float($0) }, shape: [1, c, 1, 1]).to(x.device, x.dtype)
    return (x - mean) / std
}
