import Foundation

extension DatasetSpec {
    /// Folders searched for a dataset named without a path, in order.
    public static var searchRoots: [String] {
        var roots: [String] = []
        if let data = ProcessInfo.processInfo.environment["BLOCKWISE_DATA"], !data.isEmpty { roots.append(data) }
        roots.append(FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/blockwise/data")
        roots.append("/usr/share/datasets")
        return roots
    }

    /// The usual folder names of a dataset under a search root (or under a given path).
    var folderNames: [String] {
        switch kind {
        case .mnist: return ["mnist", "MNIST/raw"]
        case .fashionMNIST: return ["fashion-mnist", "FashionMNIST/raw"]
        case .cifar10: return ["cifar-10-batches-bin", "cifar10/cifar-10-batches-bin", "cifar10"]
        case .cifar100: return ["cifar-100-binary", "cifar100/cifar-100-binary", "cifar100"]
        case .stl10: return ["stl10_binary", "stl10/stl10_binary", "stl10"]
        case .imagenet: return ["imagenet"]
        case .idx, .folder, .synthetic: return []
        }
    }

    /// Files of which one marks the dataset's folder, to tell it from a parent folder.
    var markers: [String] {
        switch kind {
        case .cifar10: return ["data_batch_1.bin", "test_batch.bin"]
        case .cifar100: return ["train.bin", "test.bin"]
        case .stl10: return ["train_X.bin", "test_X.bin", "unlabeled_X.bin"]
        case .imagenet: return ["train"]
        case .mnist, .fashionMNIST, .idx, .folder, .synthetic: return []
        }
    }

    /// The dataset's folder: the given path (or the usual subfolder inside it), else the first
    /// default location that holds it.
    public func resolvedFolder() throws -> String {
        let manager = FileManager.default
        func holds(_ folder: String) -> Bool {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { return false }
            return markers.isEmpty || markers.contains { manager.fileExists(atPath: folder + "/" + $0) }
        }
        if let argument {
            if folderNames.isEmpty || holds(argument) { return argument }
            for name in folderNames where holds(argument + "/" + name) { return argument + "/" + name }
            try requireFolder(argument)
            throw DataError(argument, "does not hold \(kind.rawValue) (looked for \(markers.isEmpty ? "its files" : markers.joined(separator: " or ")) here and in " +
                            "\(folderNames.joined(separator: ", ")))")
        }
        let candidates = DatasetSpec.searchRoots.flatMap { root in folderNames.map { root + "/" + $0 } }
        if let found = candidates.first(where: holds) { return found }
        throw DataError(description, "not found; looked in \(candidates.joined(separator: ", ")). " +
                        "Give its folder as \(kind.rawValue):/path or set BLOCKWISE_DATA")
    }

    /// Reads (or, for `synthetic`, generates) one split of the dataset; with `limit=N`, a
    /// seeded random subset of N of its images (every split: quick runs on a laptop).
    public func load(split: DatasetSplit) throws -> any ImageDataset {
        let full = try loadFull(split: split)
        guard options["limit"] != nil else { return full }
        let limit = try integer("limit", default: full.count)
        guard limit > 0 else { throw DataError(description, "limit must be a positive number of images, got \(limit)") }
        return limit >= full.count ? full : SubsetDataset(full, count: limit, seed: 0)
    }

    private func loadFull(split: DatasetSplit) throws -> any ImageDataset {
        switch kind {
        case .mnist:
            return try MNISTFamily.load(folder: resolvedFolder(), split: split, name: "mnist", statistics: .mnist)
        case .fashionMNIST:
            return try MNISTFamily.load(folder: resolvedFolder(), split: split, name: "fashion-mnist", statistics: .fashionMNIST)
        case .idx:
            return try MNISTFamily.load(folder: resolvedFolder(), split: split, name: description,
                                        classCount: integer("classes", default: 10), statistics: .mnist)
        case .cifar10: return try CIFAR.load10(folder: resolvedFolder(), split: split)
        case .cifar100: return try CIFAR.load100(folder: resolvedFolder(), split: split, coarse: flag("coarse"))
        case .stl10: return try STL10.load(folder: resolvedFolder(), split: split)
        case .folder, .imagenet: return try loadFolder(split: split)
        case .synthetic:
            let count = try integer("count", default: 10_000)
            let seed = UInt64(try integer("seed", default: 0))
            let size = try imageSize
            switch split {
            case .train, .pretrain:
                return SyntheticShapes.make(count: count, size: size, seed: seed, name: "synthetic/train")
            case .test:
                // A different seed: test images are new draws of the same classes.
                return SyntheticShapes.make(count: max(1, count / 5), size: size, seed: seed &+ 0x7E57, name: "synthetic/test")
            case .unlabeled: throw DataError(description, "has no unlabeled split (it has train and test)")
            }
        }
    }

    /// `folder:PATH` is one split unless PATH has train/ and val/ (or test/) subfolders.
    func loadFolder(split: DatasetSplit) throws -> ImageFolder {
        let root = try resolvedFolder()
        let manager = FileManager.default
        let testName = ["val", "test"].first { manager.fileExists(atPath: root + "/" + $0) }
        let hasSplits = manager.fileExists(atPath: root + "/train") && testName != nil
        let folder: String
        switch split {
        case .train, .pretrain: folder = hasSplits ? root + "/train" : root
        case .test:
            if let test = options["test"] { folder = test } else if hasSplits, let testName { folder = root + "/" + testName } else {
                throw DataError(root, "has no val/ or test/ subfolder for the test split; give one as \(kind.rawValue):\(root)?test=/path")
            }
        case .unlabeled: throw DataError(description, "image folders have no unlabeled split")
        }
        let side = try imageSize
        // Stored a little larger than the views (256 for 224), as ImageNet evaluation resizes.
        let stored = Int((Double(side) * 256 / 224).rounded())
        return try ImageFolder(root: folder, side: stored, skipUnreadable: flag("skip-unreadable"), statistics: .imagenet,
                               name: "\(kind.rawValue):\(folder)")
    }
}
