import Dispatch
import Foundation
import Synchronization
import Torch

/// Images in class subfolders (ImageNet's layout, torchvision's `ImageFolder`): `root/<class>/<image>`
/// with JPEG or PNG files. Classes are the subfolder names in sorted order. Images are decoded
/// when a batch asks for them, in parallel. Pretraining views are cut from each whole image as
/// it is decoded (`croppedViews`, torchvision's RandomResizedCrop on the PIL image); `batch`
/// gives images resized so the shorter side is `side` and centre-cropped to `side`×`side`
/// (evaluation's resize, before its centre crop). A class folder or an image whose name is
/// not UTF-8 is an error naming it, never left out.
///
/// With `skipUnreadable`, an image that cannot be decoded is replaced by the next readable one
/// and counted once in `skippedCount`; otherwise it is an error naming the file.
public final class ImageFolder: ImageDataset, @unchecked Sendable {
    public let name: String
    public let root: String
    public let classNames: [String]
    /// Each image's path and class.
    public let files: [(path: String, label: Int)]
    public let side: Int
    public let skipUnreadable: Bool
    public let statistics: ChannelStatistics
    /// The indices of the images found unreadable and skipped.
    private let skipped = Mutex<Set<Int>>([])

    /// The file extensions read (lower case), as torchvision's `IMG_EXTENSIONS` for these formats.
    public static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    public init(root: String, side: Int, skipUnreadable: Bool = false, statistics: ChannelStatistics = .imagenet,
                name: String? = nil) throws {
        try requireFolder(root)
        let manager = FileManager.default
        let entries = try FolderListing(root)
        if let name = entries.undecodable.first(where: entries.isFolder) {
            throw Self.notUTF8(root, "class folder", name)
        }
        let classes = entries.names.filter { entry in
            var isDirectory: ObjCBool = false
            return manager.fileExists(atPath: root + "/" + entry, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        guard !classes.isEmpty else { throw DataError(root, "no class subfolders (expected root/<class>/<image>.jpg)") }
        var files: [(String, Int)] = []
        for (label, name) in classes.enumerated() {
            let folder = root + "/" + name
            let entries = try FolderListing(folder)
            if let name = entries.undecodable.first(where: { Self.isImage(String(decoding: $0, as: UTF8.self)) }) {
                throw Self.notUTF8(folder, "image", name)
            }
            let images = entries.names.filter(Self.isImage)
            guard !images.isEmpty else {
                throw DataError(folder, "class folder holds no .jpg, .jpeg or .png images")
            }
            files += images.map { (folder + "/" + $0, label) }
        }
        self.name = name ?? root
        self.root = root
        self.classNames = classes
        self.files = files
        self.side = side
        self.skipUnreadable = skipUnreadable
        self.statistics = statistics
    }

    /// Whether a file name has one of the `extensions` read.
    static func isImage(_ name: String) -> Bool {
        extensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// A name this dataset cannot hold: paths are Swift strings, which are UTF-8.
    private static func notUTF8(_ folder: String, _ what: String, _ name: [UInt8]) -> DataError {
        DataError(folder, "holds \(what) \"\(FolderListing.shown(name))\", whose name is not UTF-8: rename it in UTF-8 "
            + "(for names in Latin-1: convmv -f latin1 -t utf8 -r --notest \(folder))")
    }

    public var count: Int { files.count }
    public var imageShape: [Int] { [3, side, side] }
    public var classCount: Int { classNames.count }
    /// Images found unreadable and replaced so far, each counted once however often it was met.
    public var skippedCount: Int { skipped.withLock { $0.count } }
    public var skippedImageCount: Int? { skipUnreadable ? skippedCount : nil }

    /// One image as uint8 [3, side, side].
    public func image(at index: Int) throws -> Tensor {
        try ImageDecoder.decode(files[index].path, minimumShorterSide: side).squareTensor(side: side)
    }

    public func batch(_ indices: [Int]) throws -> LabelledBatch {
        try validate(indices)
        let images = Tensor.empty([indices.count, 3, side, side], dtype: .uint8)
        let labels = try inParallel(indices) { position, index in
            try readable(from: index) { candidate in
                images[position].copy_(try image(at: candidate))
                return files[candidate].label
            }
        }
        return LabelledBatch(images: images, labels: Tensor(labels))
    }

    /// Each image read once, its header first: both boxes are drawn on its full size, it is
    /// decoded at the smallest DCT scale that still gives each box `side` pixels each way, and
    /// both views are cut from it into the batch's tensors. Nothing here calls libtorch, so
    /// the workers never start libtorch's own threads on top of theirs.
    public func croppedViews(_ indices: [Int], augmentation: TwoViewAugmentation,
                             parameters: (ViewParameters, ViewParameters)) throws -> CroppedViews? {
        try validate(indices)
        let n = indices.count, side = augmentation.side
        let viewA = Tensor.empty([n, 3, side, side], dtype: .uint8), viewB = Tensor.empty([n, 3, side, side], dtype: .uint8)
        let (a, b) = parameters
        let cuts = try viewA.withUnsafeMutableBytes { bytesA in
            try viewB.withUnsafeMutableBytes { bytesB in
                let outputs = (Output(bytesA), Output(bytesB))
                return try inParallel(indices) { position, index in
                    try readable(from: index) { candidate in
                        let image = try EncodedImage(path: files[candidate].path)
                        let boxA = augmentation.viewA.cropBox(height: image.height, width: image.width, draws: a.cropDraws[position])
                        let boxB = augmentation.viewB.cropBox(height: image.height, width: image.width, draws: b.cropDraws[position])
                        let scale = [boxA, boxB].map { Double(side) / Double(min($0.height, $0.width)) }.max()!
                        let pixels = try image.decode(minimumScale: scale)
                        let planes = 3 * side * side
                        let (outA, outB) = (outputs.0.start + position * planes, outputs.1.start + position * planes)
                        pixels.cutView(top: boxA.top, left: boxA.left, height: boxA.height, width: boxA.width,
                                       fullHeight: image.height, fullWidth: image.width, side: side, flip: a.flip[position],
                                       into: outA)
                        // Views that keep the whole image (augmentation none) are the same view: cut it once.
                        if boxA == boxB, a.flip[position] == b.flip[position] {
                            outB.update(from: outA, count: planes)
                        } else {
                            pixels.cutView(top: boxB.top, left: boxB.left, height: boxB.height, width: boxB.width,
                                           fullHeight: image.height, fullWidth: image.width, side: side,
                                           flip: b.flip[position], into: outB)
                        }
                        return Cut(label: files[candidate].label, boxA: boxA, boxB: boxB, height: image.height, width: image.width,
                                   decodedHeight: pixels.height, decodedWidth: pixels.width)
                    }
                }
            }
        }
        func boxes(_ box: (Cut) -> (top: Int, left: Int, height: Int, width: Int)) -> CropBoxes {
            CropBoxes(top: cuts.map { box($0).top }, left: cuts.map { box($0).left },
                      height: cuts.map { box($0).height }, width: cuts.map { box($0).width })
        }
        return CroppedViews(viewA: viewA, viewB: viewB, labels: Tensor(cuts.map(\.label)), boxesA: boxes(\.boxA),
                            boxesB: boxes(\.boxB), imageHeights: cuts.map(\.height), imageWidths: cuts.map(\.width),
                            decodedHeights: cuts.map(\.decodedHeight), decodedWidths: cuts.map(\.decodedWidth))
    }

    /// What cutting the views of one image found.
    private struct Cut: Sendable {
        var label: Int
        var boxA: (top: Int, left: Int, height: Int, width: Int)
        var boxB: (top: Int, left: Int, height: Int, width: Int)
        var height: Int, width: Int, decodedHeight: Int, decodedWidth: Int
    }

    /// A batch tensor's bytes, written by the workers at disjoint places.
    private struct Output: @unchecked Sendable {
        let start: UnsafeMutablePointer<UInt8>
        init(_ bytes: UnsafeMutableRawBufferPointer) { start = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) }
    }

    /// `body` for each of `indices` (with its position) on all cores; the results in order, or
    /// the first error (a `DataError` naming the file).
    private func inParallel<T: Sendable>(_ indices: [Int], _ body: @Sendable (Int, Int) throws -> T) throws -> [T] {
        let results = Mutex([T?](repeating: nil, count: indices.count))
        let firstError = Mutex<DataError?>(nil)
        DispatchQueue.concurrentPerform(iterations: indices.count) { position in
            do {
                let result = try body(position, indices[position])
                results.withLock { $0[position] = result }
            } catch let error as DataError {
                firstError.withLock { if $0 == nil { $0 = error } }
            } catch {
                firstError.withLock { if $0 == nil { $0 = DataError(files[indices[position]].path, "\(error)") } }
            }
        }
        if let error = firstError.withLock({ $0 }) { throw error }
        return results.withLock { $0.map { $0! } }
    }

    /// `body` of the image at `index`, or with `skipUnreadable` of the next readable one after it.
    private func readable<T>(from index: Int, _ body: (Int) throws -> T) throws -> T {
        var candidate = index
        while true {
            do {
                return try body(candidate)
            } catch let error as DataError {
                guard skipUnreadable else { throw error }
                skipped.withLock { _ = $0.insert(candidate) }
                candidate = (candidate + 1) % files.count
                if candidate == index { throw DataError(root, "no readable image in the whole folder") }
            }
        }
    }

    /// Decodes every image once, so unreadable ones are found (and counted) up front.
    /// Returns the number of unreadable images; without `skipUnreadable` the first one is an error.
    public func verify() throws -> Int {
        let bad = Mutex(0)
        let firstError = Mutex<DataError?>(nil)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            // The smallest DCT scale still reads every byte of the file.
            do { _ = try EncodedImage(path: files[index].path).decode(minimumScale: 0) } catch {
                bad.withLock { $0 += 1 }
                let error = error as? DataError ?? DataError(files[index].path, "\(error)")
                firstError.withLock { if $0 == nil { $0 = error } }
            }
        }
        if !skipUnreadable, let error = firstError.withLock({ $0 }) { throw error }
        return bad.withLock { $0 }
    }
}
