import Torch

/// A labelled set of equally sized images. Images come out as uint8 [B, C, H, W] (pixel
/// values 0–255) and labels as int64 [B]; an unlabelled image (STL-10's unlabeled split)
/// has label −1. Conversion to float, augmentation and normalisation happen later, batched,
/// on the training device.
public protocol ImageDataset: Sendable {
    /// For logs and errors, e.g. "fashion-mnist/train".
    var name: String { get }
    var count: Int { get }
    /// [C, H, W] of every image.
    var imageShape: [Int] { get }
    /// Labels lie in 0..<classCount (or are −1 for unlabelled images).
    var classCount: Int { get }
    /// Per-channel mean and standard deviation of pixel values in [0, 1], for normalisation.
    var statistics: ChannelStatistics { get }
    /// The images and labels at `indices`, in that order.
    func batch(_ indices: [Int]) throws -> LabelledBatch
    /// How many of its images were found unreadable and skipped so far (an image folder read
    /// with `skip-unreadable`); nil for a dataset that never skips one.
    var skippedImageCount: Int? { get }
    /// Both views of the images at `indices` cut from each whole image as it is decoded, with
    /// each view's boxes drawn on that image's own size from the draws in `parameters`
    /// (datasets whose images differ in size: image folders). Nil for a dataset of equally
    /// sized images, whose views are cut from `batch`'s images on the training device.
    func croppedViews(_ indices: [Int], augmentation: TwoViewAugmentation,
                      parameters: (ViewParameters, ViewParameters)) throws -> CroppedViews?
}

/// Images (uint8 [B, C, H, W]) with their labels (int64 [B]).
public struct LabelledBatch: Sendable {
    public var images: Tensor
    public var labels: Tensor

    public init(images: Tensor, labels: Tensor) {
        self.images = images
        self.labels = labels
    }
}

/// Per-channel mean and standard deviation, as `transforms.Normalize` takes them.
public struct ChannelStatistics: Sendable, Equatable, Hashable, Codable {
    public var mean: [Double]
    public var std: [Double]

    public init(mean: [Double], std: [Double]) {
        self.mean = mean
        self.std = std
    }

    /// ImageNet's, used by torchvision's pretrained models and Barlow Twins.
    public static let imagenet = ChannelStatistics(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    public static let cifar10 = ChannelStatistics(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
    public static let cifar100 = ChannelStatistics(mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762])
    public static let stl10 = ChannelStatistics(mean: [0.4467, 0.4398, 0.4066], std: [0.2603, 0.2566, 0.2713])
    public static let mnist = ChannelStatistics(mean: [0.1307], std: [0.3081])
    public static let fashionMNIST = ChannelStatistics(mean: [0.2860], std: [0.3530])

    /// The same statistics for `channels` channels (a grey image replicated to RGB).
    public func replicated(to channels: Int) -> ChannelStatistics {
        guard mean.count == 1, channels > 1 else { return self }
        return ChannelStatistics(mean: Array(repeating: mean[0], count: channels),
                                 std: Array(repeating: std[0], count: channels))
    }
}

/// Which part of a dataset.
public enum DatasetSplit: String, Sendable, CaseIterable {
    case train, test
    /// STL-10's 100,000 unlabelled images, for pretraining.
    case unlabeled
    /// What self-supervised pretraining reads: the training images, plus the unlabelled
    /// ones where a dataset has them (STL-10).
    case pretrain
}

extension ImageDataset {
    public var skippedImageCount: Int? { nil }

    public func croppedViews(_ indices: [Int], augmentation: TwoViewAugmentation,
                             parameters: (ViewParameters, ViewParameters)) throws -> CroppedViews? { nil }

    /// Checks indices before gathering, so a bad index is a clear error, not a libtorch one.
    func validate(_ indices: [Int]) throws {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw DataError(name, "index \(bad) is out of range 0..<\(count)")
        }
    }
}
