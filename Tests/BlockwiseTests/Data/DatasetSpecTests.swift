import Foundation
import Testing
@testable import Blockwise

/// Dataset names as configs and the CLI write them.
@Suite struct DatasetSpecTests {
    @Test func namesPathsAndOptionsParse() throws {
        let spec = try DatasetSpec(parsing: "folder:/data/imagenet/train?size=128&skip-unreadable=true")
        #expect(spec.kind == .folder)
        #expect(spec.argument == "/data/imagenet/train")
        #expect(spec.options == ["size": "128", "skip-unreadable": "true"])
        #expect(try spec.imageSize == 128)
        #expect(try DatasetSpec(parsing: "cifar10:/x").argument == "/x")
        #expect(try DatasetSpec(parsing: "synthetic:shapes").kind == .synthetic)
    }

    @Test func aSpecPrintsAsItParses() throws {
        for text in ["fashion-mnist", "cifar100:/d?coarse=true", "synthetic:shapes?count=10&size=16"] {
            #expect(try DatasetSpec(parsing: text).description == text)
        }
    }

    @Test func imageSizesFollowThePaperPerDataset() throws {
        let sizes = try ["fashion-mnist", "cifar10", "cifar100", "stl10", "folder:/x", "synthetic"].map {
            try DatasetSpec(parsing: $0).imageSize
        }
        #expect(sizes == [28, 32, 32, 96, 224, 32])
    }

    @Test func anUnknownDatasetIsAnErrorListingTheKnownOnes() {
        let error = #expect(throws: DataError.self) { try DatasetSpec(parsing: "imagenette") }
        #expect(error?.problem.contains("unknown dataset 'imagenette'") == true)
        #expect(error?.problem.contains("fashion-mnist") == true)
    }

    @Test func anUnknownOptionIsAnError() {
        let error = #expect(throws: DataError.self) { try DatasetSpec(parsing: "cifar10?size=64") }
        #expect(error?.problem == "unknown option 'size' for cifar10; expected limit")
    }

    @Test func aFolderWithoutAPathIsAnError() {
        #expect(throws: DataError.self) { try DatasetSpec(parsing: "folder") }
    }

    @Test func aBadOptionValueIsAnErrorNamingIt() {
        let error = #expect(throws: DataError.self) { try DatasetSpec(parsing: "synthetic?count=many").load(split: .train) }
        #expect(error?.problem == "option count=many is not a positive integer")
    }

    @Test func aDatasetMissingFromItsGivenFolderIsAnErrorNamingTheFolder() {
        let folder = TemporaryFolder()
        let error = #expect(throws: DataError.self) { try DatasetSpec(parsing: "cifar10:\(folder.path)").load(split: .train) }
        #expect(error?.path == folder.path)
        #expect(error?.problem.contains("does not hold cifar10") == true)
    }

    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/usr/share/datasets/stl10_binary")))
    func aDatasetNotInstalledAnywhereIsAnErrorListingWhereItLooked() {
        let error = #expect(throws: DataError.self) { try DatasetSpec(parsing: "stl10").resolvedFolder() }
        #expect(error?.problem.contains("/usr/share/datasets/stl10_binary") == true)
    }
}
