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

    @Option(help: "Time pretraining steps of a configuration file.")
    var config: String?

    @OptionGroup var overrides: ConfigOverrides

    @Option(help: "Steps (or batches) per measurement.")
    var steps = 10

    @Option(help: "Calls per measurement with --ops.")
    var iterations = 200_000

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard ops != (data != nil || config != nil) else {
            throw ValidationError("choose what to measure: --ops, --data SPEC, --config FILE, or --data SPEC --config FILE (data against the step)")
        }
        if config == nil, !overrides.assignments.isEmpty {
            throw ValidationError("--set overrides keys of --config FILE: give the configuration they change")
        }
        guard steps > 0, iterations > 0 else { throw ValidationError("--steps and --iterations must be positive") }
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
                ?? DataBenchmark.run(spec: spec, batchSize: 256, batches: steps, warmup: 2, device: .cpu, seed: 0)
            if json {
                var fields: [String: Any] = ["spec": result.spec, "device": result.device.description, "threads": result.threads,
                                             "batch_size": result.batchSize, "side": result.side,
                                             "images_per_second": result.imagesPerSecond]
                if let step = result.stepImagesPerSecond, let ratio = result.ratio {
                    fields["step_images_per_second"] = step
                    fields["ratio"] = ratio
                }
                let text = try JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys])
                return print(String(decoding: text, as: UTF8.self))
            }
            print(result)
        } else if let config {
            let resolved = try resolved(config)
            let result = try TrainingBenchmark.run(config: resolved, name: config, steps: steps)
            if json { return try printJSON(result) }
            print(String(format: "%@ (%@, batch %d, %@, %d threads)", config, result.mode, result.batchSize, result.device, result.threads))
            print(String(format: "  steps alone     %8.1f images/s   peak RSS %7.0f MB (%.0f MB above the %.0f MB before the steps)",
                         result.stepImagesPerSecond, result.stepPeakMemoryMB, result.stepMemoryMB, result.baselineMemoryMB))
            print(String(format: "  with data       %8.1f images/s   peak RSS %7.0f MB", result.imagesPerSecondWithData, result.peakMemoryMBWithData))
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
