import Dispatch
import Foundation
import Synchronization
import Torch

/// Images in class subfolders (ImageNet's layout, torchvision's `ImageFolder`): `root/<class>/<image>`
/// with JPEG or PNG files. Classes are the subfolder names in sorted order. Images are decoded
/// when a batch asks for them (in parallel), resized so the shorter side is `side`, and
/// centre-cropped to `side`×`side`. A class folder or an image whose name is not UTF-8 is an
/// error naming it, never left out.
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
        let labels = Mutex([Int](repeating: 0, count: indices.count))
        let firstError = Mutex<DataError?>(nil)
        DispatchQueue.concurrentPerform(iterations: indices.count) { position in
            do {
                let (tensor, label) = try readable(from: indices[position])
                images[position].copy_(tensor)
                labels.withLock { $0[position] = label }
            } catch let error as DataError {
                firstError.withLock { if $0 == nil { $0 = error } }
            } catch {
                firstError.withLock { if $0 == nil { $0 = DataError(files[indices[position]].path, "\(error)") } }
            }
        }
        if let error = firstError.withLock({ $0 }) { throw error }
        return LabelledBatch(images: images, labels: Tensor(labels.withLock { $0 }))
    }

    /// The image at `index`, or with `skipUnreadable` the next readable one after it.
    private func readable(from index: Int) throws -> (Tensor, Int) {
        var candidate = index
        while true {
            do {
                return (try image(at: candidate), files[candidate].label)
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
            do { _ = try ImageDecoder.decode(files[index].path) } catch {
                bad.withLock { $0 += 1 }
                let error = error as? DataError ?? DataError(files[index].path, "\(error)")
                firstError.withLock { if $0 == nil { $0 = error } }
            }
        }
        if !skipUnreadable, let error = firstError.withLock({ $0 }) { throw error }
        return bad.withLock { $0 }
    }
}
