import Foundation
import Testing
import Torch
@testable import Blockwise

@Suite struct ExportTests {
    @Test func theExportedBackboneEqualsTheRunsWeightsBitForBit() throws {
        let fixture = try RunFixture()
        let out = fixture.folder.path + "/export.safetensors"
        let summary = try BackboneExport.write(run: fixture.run, to: out)
        let exported = try SafeTensors.read(contentsOf: out)
        let original = try SafeTensors.read(contentsOf: fixture.run.backbonePath)
        #expect(Set(exported.names) == Set(original.names))
        #expect(exported.names.count == summary.tensors)
        for name in original.names {
            let (a, b) = (exported[name]!, original[name]!)
            #expect(a.dtype == b.dtype && a.shape == b.shape && a.bytes() == b.bytes(), "\(name)")
        }
        #expect(exported.metadata["architecture"] == "resnet18")
        #expect(exported.metadata["stem"] == "small")
        #expect(!summary.loadsIntoStockTorchvision)
        #expect(summary.torchvisionNote?.contains("model.maxpool = nn.Identity()") == true)
    }

    @Test func theExportHasTorchvisionsNamesInItsOrder() throws {
        let fixture = try RunFixture(RunFixture.tinySettings + ["model.stem=imagenet", "model.width=1"])
        let out = fixture.folder.path + "/export.safetensors"
        #expect(try BackboneExport.write(run: fixture.run, to: out).loadsIntoStockTorchvision)
        let names = try String(contentsOfFile: fixtures + "/resnet/resnet18_names.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(Set(try SafeTensors.read(contentsOf: out).names) == Set(names))
    }

    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// Runs the fixture script with Debian's python3, which must have torchvision: `make test`
    /// installs python3-torchvision.
    func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runToEnd("/usr/bin/python3", arguments)
    }

    @Test(arguments: ["resnet18", "resnet50"])
    func anExportedBackboneGivesTheSameFeaturesInTorchvision(architecture: String) throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
                     "no /usr/bin/python3, which this test needs: run `make test`, which installs python3-torchvision")
        let available = try python(["-c", "import torchvision"])
        try #require(available.status == 0, """
            /usr/bin/python3 cannot import torchvision, which this test needs: run `make test`, which installs \
            python3-torchvision (\(available.output.trimmingCharacters(in: .whitespacesAndNewlines)))
            """)
        // ImageNet stem, width 1: what torchvision builds; BN running statistics moved away from 0 and 1.
        let backbone = ResNet(ResNet.Architecture.named(architecture)!, stem: .imagenet, generator: Generator(seed: 11))
        let g = Generator(seed: 12)
        backbone.train()
        withNoGrad {
            for _ in 0..<3 { _ = backbone(Tensor.randn([4, 3, 64, 64], generator: g) * 2.0 + 0.5) }
        }
        backbone.eval()
        #expect(backbone.bn1.runningMean!.abs().max().item() > 0.01)
        #expect(abs(backbone.layer4.modules().compactMap { $0 as? BatchNorm }.last!.runningVar!.mean().item() - 1) > 0.01)
        let fixture = try RunFixture(["model.arch=\(architecture)", "model.stem=imagenet", "model.width=1",
                                      "model.zero_init_residual=false"], backbone: backbone)
        let export = fixture.folder.path + "/export.safetensors"
        try BackboneExport.write(run: fixture.run, to: export)
        let input = Tensor.randn([2, 3, 64, 64], generator: g)
        let outputs = withNoGrad { backbone.stageOutputs(input, through: 4) }
        let inputPath = fixture.folder.path + "/input.safetensors", outputPath = fixture.folder.path + "/output.safetensors"
        try SafeTensors.write([("input", input)], to: inputPath)
        try SafeTensors.write(outputs.enumerated().map { ("block\($0.offset + 1)", $0.element.mean(dims: [2, 3])) }, to: outputPath)
        let result = try python([fixtures + "/torchvision/check_export.py", export, inputPath, outputPath])
        #expect(result.status == 0, "\(result.output)")
    }
}
