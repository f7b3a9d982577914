import Foundation
import Testing
import Torch
@testable import Blockwise

/// `blockwise sweep`: the grid of (variant, seed) runs, its summary with error bars, resuming,
/// workers sharing the runs, and errors that name the variant and key.
@Suite(.serialized) struct SweepTests {
    /// A sweep file of `variants` over the tiny trainer configuration, written into `folder`.
    func writeSweep(in folder: TemporaryFolder, seeds: String = "[0, 1]", variants: String) throws -> String {
        _ = try writeTinyConfig(in: folder, ["training.epochs=1", "checkpoint.every_steps=1"])
        let path = folder.path + "/sweep.yaml"
        try "base: tiny.yaml\nseeds: \(seeds)\nprobe_epochs: 1\nvariants:\n\(variants)".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let twoVariants = "  end-to-end: [training.mode=end-to-end]\n  simultaneous: []\n"

    @Test func twoVariantsTimesTwoSeedsGiveATableOfMeansAndStandardDeviations() throws {
        let folder = TemporaryFolder()
        let sweep = Sweep(plan: try SweepPlan(contentsOf: try writeSweep(in: folder, variants: Self.twoVariants)), folder: folder.path + "/out")
        #expect(sweep.plan.runs.map(\.name) == ["end-to-end/seed-0", "simultaneous/seed-0", "end-to-end/seed-1", "simultaneous/seed-1"])
        #expect(try sweep.run(log: { _ in }))
        let results = SweepResults(sweep)
        #expect(results.variants.map(\.variant) == ["end-to-end", "simultaneous"])
        for summary in results.variants {
            let outcomes = results.runs.filter { $0.variant == summary.variant }
            #expect(outcomes.map(\.seed) == [0, 1] && summary.top1.count == 4)
            for block in 0..<4 {
                let values = outcomes.map { $0.top1[block] }
                #expect(abs(summary.top1[block].mean - (values[0] + values[1]) / 2) < 1e-12)
                #expect(abs(summary.top1[block].std - abs(values[0] - values[1]) / 2.squareRoot()) < 1e-12)
            }
            #expect(outcomes.allSatisfy { $0.pretrainSeconds > 0 && $0.peakMemoryMB > 0 })
        }
        // Different seeds train different networks.
        #expect(results.runs[0].top1 != results.runs[2].top1 || results.runs[1].top1 != results.runs[3].top1)
        try results.write(to: sweep.folder, title: "tiny")
        let table = try String(contentsOfFile: sweep.folder + "/results.md", encoding: .utf8)
        #expect(table.contains("| end-to-end | 2 | ") && table.contains(" ± "))
        let page = try String(contentsOfFile: sweep.folder + "/report.html", encoding: .utf8)
        #expect(page.contains("class=\"error-bar\"") && page.contains("simultaneous"))
        let decoded = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sweep.folder + "/results.json"))) as? [String: Any]
        #expect((decoded?["runs"] as? [Any])?.count == 4)
    }

    @Test func finishedRunsAreSkippedAndAnInterruptedOneResumes() throws {
        let folder = TemporaryFolder()
        let sweep = Sweep(plan: try SweepPlan(contentsOf: try writeSweep(in: folder, seeds: "[0]", variants: Self.twoVariants)),
                          folder: folder.path + "/out")
        // Stopped during the second run, after its first step's checkpoint.
        let second = sweep.plan.runs[1]
        let stepFile = sweep.path(of: second) + "/checkpoints/step-00000001.safetensors"
        #expect(try !sweep.run(shouldStop: { FileManager.default.fileExists(atPath: stepFile) }, log: { _ in }))
        #expect(sweep.state(of: sweep.plan.runs[0]) == "done" && sweep.state(of: second) == "begun")
        var lines: [String] = []
        #expect(try sweep.run(log: { lines.append($0) }))
        #expect(!lines.contains { $0.contains("end-to-end/seed-0") }, "\(lines)")
        #expect(lines.contains { $0.contains("simultaneous/seed-0: resuming") })
        #expect(lines.contains { $0.contains("resuming") && $0.contains("at step 1") }, "\(lines)")
        #expect(sweep.listing().allSatisfy { $0.contains(" done ") })
    }

    @Test func aVariantReadsTheRunOfAnEarlierVariantWithTheSameSeed() throws {
        let folder = TemporaryFolder()
        let path = try writeSweep(in: folder, seeds: "[3]", variants: """
              end-to-end: [training.mode=end-to-end]
              b1-from-e2e: ["training.init_from={end-to-end}", training.init_blocks=1]

            """)
        let sweep = Sweep(plan: try SweepPlan(contentsOf: path), folder: folder.path + "/out")
        let run = sweep.plan.runs[1]
        #expect(sweep.plan.dependencies(of: run) == [SweepPlan.Run(variant: "end-to-end", seed: 3)])
        let config = try sweep.plan.config(of: run, runPath: sweep.path(of:))
        #expect(config.training.initFrom == folder.path + "/out/end-to-end/seed-3" && config.run.seed == 3)
        #expect(try sweep.run(log: { _ in }))
        // Block 1 was loaded from the end-to-end run and stayed frozen.
        let a = try SafeTensors.read(contentsOf: sweep.path(of: sweep.plan.runs[0]) + "/backbone.safetensors").tensors
        let b = try SafeTensors.read(contentsOf: sweep.path(of: run) + "/backbone.safetensors").tensors
        #expect((a["conv1.weight"]! - b["conv1.weight"]!).abs().max().item() == 0)
        #expect((a["layer4.0.conv1.weight"]! - b["layer4.0.conv1.weight"]!).abs().max().item() > 0)
    }

    @Test(arguments: [
        ("  a: [training.epochz=2]\n", "variant a: --set: unknown key \"training.epochz\"; did you mean \"training.epochs\""),
        ("  a: [\"training.init_from={b}\"]\n  b: []\n", "variant a: {b} names no variant before it"),
        ("  a: [training.mode=fast]\n", "variant a: --set: training.mode"),
        ("  a/b: []\n", "variant \"a/b\": a name of letters"),
    ])
    func aBadSweepFileNamesTheVariantAndKey(_ variants: String, _ message: String) throws {
        let folder = TemporaryFolder()
        let path = try writeSweep(in: folder, variants: variants)
        let error = #expect(throws: ConfigError.self) { try SweepPlan(contentsOf: path) }
        #expect("\(error.map(String.init(describing:)) ?? "")".contains(message), "\(String(describing: error))")
    }

    @Test func theShippedFigure4SweepListsItsRunsAndTwoWorkersShareARealSweep() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        let folder = TemporaryFolder()
        let listing = try runBlockwise(["sweep", root + "/configs/sweeps/fig4-fashion-mnist.yaml", "--dry-run", "--out", folder.path + "/fig4"],
                                       folder: folder)
        #expect(listing.contains("33 runs (11 variants × 3 seeds)"))
        #expect(listing.contains("training.routing=all-below training.epochs=2"))
        #expect(listing.contains("b1-from-end-to-end/seed-2") && listing.contains("training.init_from={end-to-end}"))
        let path = try writeSweep(in: folder, variants: Self.twoVariants)
        let output = try runBlockwise(["sweep", path, "--out", folder.path + "/out", "--parallel", "2"], folder: folder)
        #expect(output.contains("[0] ") && output.contains("[1] "), "\(output)")
        #expect(output.contains("| simultaneous | 2 |"))
    }
}
