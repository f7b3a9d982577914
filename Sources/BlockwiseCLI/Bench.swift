import ArgumentParser
import Blockwise
import Foundation
import Torch

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the bridge, data loading and pretraining steps.",
        discussion: "Numbers are only comparable within one run: machines are noisy.")

    @Flag(help: "Time small ops through the bridge against libtorch's own cost.")
    var ops = false

    @Option(help: "Time loading and two-view augmentation of a dataset spec, e.g. synthetic:shapes.")
    var data: String?

    @Option(help: "With --data alone: images per batch.")
    var batchSize = 256

    @Option(help: "With --data alone: the views to make, barlow-twins or none (the whole image, resized).")
    var augmentation = "barlow-twins"

    @Option(help: "Time pretraining steps of a configuration file.")
    var config: String?

    @OptionGroup var overrides: ConfigOverrides

    @Option(help: "Steps (or batches) per measurement.")
    var steps = 10

    @Option(help: "Calls per measurement with --ops.")
    var iterations = 200_000

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "With --config: also time N data-parallel processes on this machine, against one process.")
    var nprocPerNode: Int?

    @Flag(help: "With --config: time each block's forward, head, projector, loss, head's backward and block's backward, and the optimizer.")
    var profile = false

    @Option(help: .hidden)
    var resultFile: String?

    func validate() throws {
        guard ops != (data != nil || config != nil) else {
            throw ValidationError("choose what to measure: --ops, --data SPEC, --config FILE, or --data SPEC --config FILE (data against the step)")
        }
        if config == nil, !overrides.assignments.isEmpty {
            throw ValidationError("--set overrides keys of --config FILE: give the configuration they change")
        }
        guard steps > 0, iterations > 0 else { throw ValidationError("--steps and --iterations must be positive") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard AugmentationRecipe(rawValue: augmentation) != nil else {
            throw ValidationError("--augmentation \(augmentation): expected "
                                  + AugmentationRecipe.allCases.map(\.rawValue).joined(separator: " or "))
        }
    }

    func run() throws {
        if ops {
            let rows = OpsBenchmark(iterations: iterations).run()
            if json { return try printJSON(rows) }
            print("op              swift µs/call   libtorch µs/call   bridge overhead µs")
            for r in rows {
                let native = r.nativeMicroseconds.map { String(format: "%.3f", $0) } ?? "-"
                let overhead = r.overheadMicroseconds.map { String(format: "%.3f", $0) } ?? "-"
                print(r.op.padding(toLength: 16, withPad: " ", startingAt: 0)
                      + String(format: "%13.3f", r.swiftMicroseconds) + native.leftPadded(19) + overhead.leftPadded(21))
            }
        } else if let data {
            let spec = try DatasetSpec(parsing: data)
            let result = try config.map { try TrainingBenchmark.dataAgainstStep(spec: spec, config: try resolved($0), batches: steps) }
                ?? DataBenchmark.run(spec: spec, batchSize: batchSize, batches: steps, warmup: 2, device: .cpu, seed: 0,
                                     recipe: AugmentationRecipe(rawValue: augmentation)!)
            if json {
                var fields: [String: Any] = ["spec": result.spec, "device": result.device.description, "threads": result.threads,
                                             "batch_size": result.batchSize, "side": result.side,
                                             "images_per_second": result.imagesPerSecond, "cores": result.cores,
                                             "augmentation": result.recipe.rawValue,
                                             "read_images_per_second": result.readImagesPerSecond,
                                             "prepare_images_per_second": result.prepareImagesPerSecond,
                                             "fresh_mb_per_batch": result.freshMBPerBatch]
                if let decode = result.decodeImagesPerSecondPerCore {
                    fields["decode_images_per_second_per_core"] = decode
                }
                if let step = result.stepImagesPerSecond, let ratio = result.ratio {
                    fields["step_images_per_second"] = step
                    fields["ratio"] = ratio
                }
                let text = try JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys])
                return print(String(decoding: text, as: UTF8.self))
            }
            print(result)
        } else if let config, profile {
            let profile = try TrainingBenchmark.profile(config: try resolved(config), steps: steps)
            if json { return try printJSON(profile) }
            printProfile(profile)
        } else if let config {
            let resolved = try resolved(config)
            if let processes = nprocPerNode, processes > 1 {
                return try compareScaling(config, resolved, processes: processes)
            }
            let launch = try Launch.fromEnvironment()
            let result = try TrainingBenchmark.run(config: resolved, name: config, steps: steps, launch: launch)
            guard launch.isLeader else { return }
            if let resultFile {
                return try JSONEncoder().encode(result).write(to: URL(fileURLWithPath: resultFile))
            }
            if json { return try printJSON(result) }
            printTable(result)
        }
    }

    /// One process with every core, then `processes` workers sharing them.
    private func compareScaling(_ name: String, _ config: Config, processes: Int) throws {
        let scaling = try TrainingBenchmark.scaling(config: config, name: name, steps: steps, processes: processes) { file in
            LocalLauncher.workerArguments(CommandLine.arguments) + ["--result-file", file]
        }
        if json { return try printJSON(scaling) }
        printTable(scaling.oneProcess)
        printTable(scaling.dataParallel)
        print(String(format: "scaling: %d processes give %.2fx the images/s of one (steps alone)", processes, scaling.efficiency))
        if let forecast = scaling.forecast { printForecast(forecast) }
    }

    /// Milliseconds per step by block and part, then the step's own parts.
    private func printProfile(_ profile: TrainingBenchmark.Profile) {
        let parts = ["forward", "head", "projector", "loss", "head_backward", "backward"]
        // The head's backward: from the loss to the block's output; the block's follows.
        let titles = ["forward", "head", "projector", "loss", "head bwd", "backward"]
        print("ms per step   " + titles.map { $0.leftPadded(10) }.joined() + "     total".leftPadded(10))
        for (k, times) in profile.blocks.enumerated() {
            let total = parts.reduce(0) { $0 + (times[$1] ?? 0) }
            print("block \(k + 1)".padding(toLength: 13, withPad: " ", startingAt: 0)
                  + (parts.map { times[$0] ?? 0 } + [total]).map { String(format: "%10.1f", $0) }.joined())
        }
        let stepParts = ["probe", "exchange", "optimizer"]
        print("step: " + stepParts.map { String(format: "%@ %.1f", $0, profile.step[$0] ?? 0) }.joined(separator: ", ")
              + String(format: "; whole step %.1f ms", profile.totalMilliseconds))
        guard let memory = profile.blockPeakMemoryMB, let stepMemory = profile.stepPeakMemoryMB else { return }
        print("\npeak MB of tensors above the step's start, by part (blank: not run)")
        print("              " + titles.map { $0.leftPadded(10) }.joined())
        for (k, peaks) in memory.enumerated() {
            print("block \(k + 1)".padding(toLength: 13, withPad: " ", startingAt: 0)
                  + parts.map { peaks[$0].map { String(format: "%10.0f", $0) } ?? "".leftPadded(10) }.joined())
        }
        print("step: " + stepParts.compactMap { part in stepMemory[part].map { String(format: "%@ %.0f", part, $0) } }.joined(separator: ", "))
    }

    /// The pipeline's predicted rate on several devices, from the stage costs of one process.
    private func printForecast(_ forecast: PipelineForecast) {
        print("block-parallel forecast from one process's stage costs (the slowest block sets the pace; transfers left out):")
        print("  stage costs (ms per step): " + forecast.stageCosts.map {
            String(format: "stage %d %.1f + head %.1f", $0.stage, 1000 * $0.backboneSeconds, 1000 * $0.headSeconds)
        }.joined(separator: ", "))
        let plan = { (plan: PipelineForecast.Plan) in
            String(format: "%@: %.1f images/s (blocks ", plan.partition, plan.imagesPerSecond)
                + plan.blockSeconds.map { String(format: "%.0f", 1000 * $0) }.joined(separator: "/") + " ms)"
        }
        print(String(format: "  one device, the blocks one after the other: %.1f images/s; on one device per block, model.partition ",
                     forecast.oneDeviceImagesPerSecond) + plan(forecast.configured))
        for (devices, best) in forecast.balanced.enumerated() where devices > 0 {
            print("  balance hint for \(devices + 1) devices: model.partition=" + plan(best))
        }
    }

    private func printTable(_ result: TrainingBenchmark.Result) {
        let who = result.processes > 1 ? "\(result.processes) processes × \(result.threads) threads" : "\(result.threads) threads"
        print(String(format: "%@ (%@, batch %d, %@, %@)", result.config, result.mode, result.batchSize, result.device, who))
        print(String(format: "  steps alone     %8.1f images/s   peak RSS %7.0f MB (%.0f MB above the %.0f MB before the steps)",
                     result.stepImagesPerSecond, result.stepPeakMemoryMB, result.stepMemoryMB, result.baselineMemoryMB))
        if let wall = result.stepSeconds, let cpu = result.stepCPUSeconds, !wall.isEmpty, !cpu.isEmpty {
            let median = { (values: [Double]) in values.sorted()[values.count / 2] }
            print(String(format: "  steps alone     median step %.2f s, %.2f s of CPU time (this process's threads)", median(wall), median(cpu)))
        }
        if let stolen = result.stolenShare {
            print(String(format: "  machine         %.0f%% of the CPUs' time went to other guests of the hypervisor during the steps (steal)%@",
                         100 * stolen, stolen >= MachineTime.noticeableStolenShare ? ": these wall times are not those of a quiet machine" : ""))
        }
        if let peak = result.stepPeakTensorMemoryMB, let step = result.stepTensorMemoryMB {
            print(String(format: "  steps alone     tensors' peak %.0f MB on %@ (%.0f MB above what they held before the steps)",
                         peak, result.device, step))
        }
        if result.blockRanks == nil {
            print(String(format: "  with data       %8.1f images/s   peak RSS %7.0f MB", result.imagesPerSecondWithData, result.peakMemoryMBWithData))
        }
        print(String(format: "  malloc          %@: %.0f MB held free after the steps (%@=%@ to change)", result.hostAllocator,
                     result.freeHeldMemoryMB, HostAllocator.environmentVariable,
                     result.hostAllocator == HostAllocator.retain.rawValue ? HostAllocator.system.rawValue : HostAllocator.retain.rawValue))
        for rank in result.blockRanks ?? [] {
            print(String(format: "  rank %d, block %d%@: compute %.1f ms, waits %.1f ms for input, sends %.1f MB per step; peak RSS %.0f MB",
                         rank.rank, rank.block, result.blockRanks!.contains { $0.replica > 0 } ? ", replica \(rank.replica + 1)" : "",
                         1000 * rank.computeSeconds, 1000 * rank.receiveWaitSeconds, rank.bytesSent / 1e6, rank.peakMemoryMB))
        }
        if let waits = result.averagingWaitSeconds, let alone = result.averagingSeconds {
            print("  gradient averaging: " + String(format: "%.1f ms per step alone; ", 1000 * alone)
                  + "wait after the last backward per rank " + waits.map { String(format: "%.1f ms", 1000 * $0) }.joined(separator: ", ")
                  + (result.hiddenAveraging.map { String(format: " (%.0f%% hidden)", 100 * $0) } ?? ""))
        }
        if let memory = result.peakMemoryMBPerRank {
            print("  peak RSS per rank: " + memory.map { String(format: "%.0f MB", $0) }.joined(separator: ", "))
        }
    }

    private func resolved(_ file: String) throws -> Config {
        try overrides.resolve(file: file)
    }

    private func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
