import Foundation
import Torch

/// `blockwise bench --config`: the speed and peak memory of pretraining steps, with and
/// without data loading; no run directory is written. Memory is reported twice: the process's
/// resident (host) memory, which leaves out a GPU's own memory and counts what malloc keeps
/// after frees; and the tensors' own memory on the training device as its allocator counts it
/// (`TensorMemory`), which is what the step itself needs. Under a launcher of several
/// processes every rank trains data-parallel, or its block (`distributed.strategy: blocks`),
/// and rank 0 reports for all of them.
public enum TrainingBenchmark {
    public struct Result: Codable, Sendable {
        public var config: String
        public var mode: String
        public var device: String
        public var threads: Int
        public var batchSize: Int
        public var steps: Int
        /// Optimisation steps alone, one batch reused.
        public var stepImagesPerSecond: Double
        /// Each of those steps' seconds, in order, on a CPU: their median or minimum compares
        /// runs on a noisy machine better than the mean. Nil on a GPU, where a step's end is
        /// known only by waiting for the device, which would hold back the next step.
        public var stepSeconds: [Double]? = nil
        /// The CPU seconds of each of those steps, every thread of this process: on a machine
        /// whose hypervisor takes turns with other guests, they stretch less than wall time.
        public var stepCPUSeconds: [Double]? = nil
        /// The share of the machine's CPU time its hypervisor gave to other guests during the
        /// steps alone (steal, `MachineTime`): from `noticeableStolenShare`, the wall times above were
        /// measured on a machine partly taken. Nil where the kernel does not say.
        public var stolenShare: Double? = nil
        public var stepPeakMemoryMB: Double
        /// The most memory tensors held at once on the training device during the steps alone
        /// (`TensorMemory`: on CUDA `torch.cuda.max_memory_allocated`); nil where not counted.
        public var stepPeakTensorMemoryMB: Double? = nil
        /// That peak above what tensors held before the steps (weights, optimizer state, the
        /// batch): activations, gradients and the step's temporaries, without malloc's share.
        public var stepTensorMemoryMB: Double? = nil
        /// Resident memory before the timed steps: weights, optimizer state, data.
        public var baselineMemoryMB: Double
        /// What the steps add on top of the baseline: activations and gradients.
        public var stepMemoryMB: Double
        /// Steps fed by the loader (decoding and two-view augmentation in the background).
        public var imagesPerSecondWithData: Double
        public var peakMemoryMBWithData: Double
        /// What malloc does with freed memory in this process (`HostAllocator`: retain or system).
        public var hostAllocator = Runtime.hostAllocator.rawValue
        /// Memory malloc held free after the steps alone, in MB: what keeping freed memory
        /// costs on top of what the tensors use (its share of the peak is in `stepPeakMemoryMB`).
        public var freeHeldMemoryMB = 0.0
        /// Data-parallel processes; the images per second above are global (all ranks').
        public var processes: Int = 1
        /// Per rank: seconds per step spent waiting for gradient averages after the step's
        /// last backward, the exchange that computation did not hide (steps alone).
        public var averagingWaitSeconds: [Double]?
        /// Seconds per step of the same gradient averages run alone, with nothing to hide behind.
        public var averagingSeconds: Double?
        /// Per rank: peak resident memory during the steps alone.
        public var peakMemoryMBPerRank: [Double]?
        /// The share of the averaging that the backward passes of later blocks hid:
        /// 1 − (the slowest rank's wait) / (the averaging alone).
        public var hiddenAveraging: Double?
        /// Block-parallel runs: what each process did per step.
        public var blockRanks: [BlockRank]?
    }

    /// One process of a block-parallel benchmark, per step of the steps alone.
    public struct BlockRank: Codable, Sendable {
        public var rank: Int
        /// From 1, as the partition counts them.
        public var block: Int
        public var replica: Int
        public var peakMemoryMB: Double
        /// Seconds spent computing (everything but waiting for the input).
        public var computeSeconds: Double
        /// Seconds spent waiting for the block below's output.
        public var receiveWaitSeconds: Double
        /// Bytes of outputs and labels sent up to the next block.
        public var bytesSent: Double
    }

    /// `bench --nproc-per-node N`: the same steps in one process with every core, and in N
    /// data-parallel processes sharing the cores, measured one after the other.
    public struct Scaling: Codable, Sendable {
        public var oneProcess: Result
        /// The N processes, data-parallel or block-parallel as the configuration says.
        public var dataParallel: Result
        /// Global images per second of the N processes over those of one (steps alone).
        public var efficiency: Double
        /// Block-parallel runs: the throughput on N devices the stage costs of one process predict.
        public var forecast: PipelineForecast?

        public init(oneProcess: Result, dataParallel: Result, forecast: PipelineForecast? = nil) {
            self.oneProcess = oneProcess
            self.dataParallel = dataParallel
            self.forecast = forecast
            efficiency = dataParallel.stepImagesPerSecond / oneProcess.stepImagesPerSecond
        }
    }

    /// Times the steps in this process, then in `processes` workers of this same command
    /// (`workerArguments`, to which the path of rank 0's result file is appended).
    public static func scaling(config: Config, name: String, steps: Int, processes: Int,
                               workerArguments: (_ resultFile: String) -> [String]) throws -> Scaling {
        let one = try run(config: config, name: name, steps: steps)
        let forecast = config.distributed.strategy == .blocks ? try PipelineForecast.measure(config: config, steps: steps) : nil
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("blockwise-bench-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let status = try LocalLauncher.run(processes: processes, arguments: workerArguments(file),
                                           grace: config.run.timeoutSeconds + 10)
        guard status == 0 else { throw DistributedError("the \(processes) benchmark workers ended with status \(status)") }
        let many = try JSONDecoder().decode(Result.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        return Scaling(oneProcess: one, dataParallel: many, forecast: forecast)
    }

    public static func run(config: Config, name: String, steps: Int, warmup: Int = 2, launch: Launch = .single) throws -> Result {
        // Counted from before the weights exist, so that what tensors hold before the steps is known;
        // where counting is refused, `time` finds no counts and the tensor figures stay nil.
        try? TensorMemory.countCPU()
        let setup = try TrainingSetup(config: config, launch: launch)
        if setup.pipeline != nil { return try pipelined(setup, name: name, steps: steps, warmup: warmup) }
        let alone = try time(setup, steps: steps, warmup: warmup, loadData: false)
        let waited = (setup.dataParallel?.waitSeconds ?? 0) / Double(steps)
        let fed = try time(setup, steps: steps, warmup: warmup, loadData: true)
        var result = Result(config: name, mode: config.training.mode.rawValue, device: setup.device.description,
                            threads: Runtime.threads, batchSize: config.data.batchSize, steps: steps,
                            stepImagesPerSecond: alone.imagesPerSecond, stepSeconds: alone.stepSeconds, stepCPUSeconds: alone.stepCPUSeconds,
                            stolenShare: alone.stolenShare, stepPeakMemoryMB: alone.peakMemoryMB,
                            baselineMemoryMB: alone.baselineMemoryMB, stepMemoryMB: alone.peakMemoryMB - alone.baselineMemoryMB,
                            imagesPerSecondWithData: fed.imagesPerSecond, peakMemoryMBWithData: fed.peakMemoryMB,
                            freeHeldMemoryMB: alone.freeHeldMemoryMB)
        if let tensors = alone.tensorMemory {
            result.stepPeakTensorMemoryMB = tensors.peakMB
            result.stepTensorMemoryMB = tensors.peakMB - tensors.beforeMB
        }
        if let dataParallel = setup.dataParallel {
            let perRank = try dataParallel.gather([waited, alone.peakMemoryMB])
            result.processes = launch.worldSize
            result.averagingWaitSeconds = perRank.map { $0[0] }
            result.peakMemoryMBPerRank = perRank.map { $0[1] }
            let alone = try averagingAlone(setup, dataParallel, repeats: steps)
            result.averagingSeconds = alone
            result.hiddenAveraging = alone > 0 ? max(0, 1 - (result.averagingWaitSeconds?.max() ?? 0) / alone) : nil
        }
        return result
    }

    /// Block-parallel steps alone: the first block reuses one batch, every block trains as in a
    /// run. Images per second are those of the whole pipeline (its last process to finish).
    static func pipelined(_ setup: TrainingSetup, name: String, steps: Int, warmup: Int) throws -> Result {
        let pipeline = setup.pipeline!, dataParallel = setup.dataParallel!
        let placement = pipeline.placement
        let loader = placement.block == 0 ? try setup.loader(phase: 0) : nil
        defer { loader?.stop() }
        let first = try loader?.next().value
        let phase = setup.plan.phases[0]
        func step(_ n: Int) throws {
            let input = try first.map { BlockPipeline.Message(step: n, position: DataPosition(), viewA: $0.viewA, viewB: $0.viewB, labels: $0.labels) }
                ?? pipeline.receive()
            guard let input else { throw DistributedError("the block below stopped the benchmark") }
            _ = try setup.optimise(block: input, phase: phase)
        }
        for n in 0..<warmup { try step(n + 1) }
        try pipeline.drain()
        try dataParallel.barrier()
        pipeline.resetCounters()
        ProcessMemory.resetPeak()
        let baseline = ProcessMemory.currentMB()
        let start = Date()
        for n in 0..<steps { try step(warmup + n + 1) }
        try pipeline.drain()
        Runtime.synchronize(setup.device)
        let seconds = Date().timeIntervalSince(start)
        let perStep = { (value: Double) in value / Double(steps) }
        let ranks = try dataParallel.gather([Double(placement.block + 1), Double(placement.replica), ProcessMemory.peakMB(),
                                             perStep(seconds - pipeline.receiveSeconds), perStep(pipeline.receiveSeconds),
                                             perStep(Double(pipeline.bytesSent)), seconds, baseline])
        let slowest = ranks.map { $0[6] }.max()!
        var result = Result(config: name, mode: setup.config.training.mode.rawValue, device: setup.device.description,
                            threads: Runtime.threads, batchSize: setup.config.data.batchSize, steps: steps,
                            stepImagesPerSecond: Double(steps * setup.config.data.batchSize) / slowest,
                            stepPeakMemoryMB: ranks.map { $0[2] }.max()!, baselineMemoryMB: ranks.map { $0[7] }.max()!,
                            stepMemoryMB: zip(ranks.map { $0[2] }, ranks.map { $0[7] }).map { $0 - $1 }.max()!,
                            imagesPerSecondWithData: 0, peakMemoryMBWithData: 0)
        result.processes = setup.launch.worldSize
        result.peakMemoryMBPerRank = ranks.map { $0[2] }
        result.blockRanks = ranks.enumerated().map { rank, values in
            BlockRank(rank: rank, block: Int(values[0]), replica: Int(values[1]), peakMemoryMB: values[2],
                      computeSeconds: values[3], receiveWaitSeconds: values[4], bytesSent: values[5])
        }
        return result
    }

    /// Seconds per step of averaging every trained block's gradients with nothing else running:
    /// what the step would wait if no exchange overlapped a backward pass.
    static func averagingAlone(_ setup: TrainingSetup, _ dataParallel: DataParallel, repeats: Int) throws -> Double {
        let blocks = setup.plan.phases[0].trainedBlocks
        for parameter in setup.network.parameters() where parameter.grad == nil {
            parameter.grad = Tensor.zeros(parameter.shape, dtype: parameter.dtype, device: parameter.device)
        }
        try dataParallel.barrier()
        let start = Date()
        for _ in 0..<repeats {
            for k in blocks { try dataParallel.startAveraging(setup.blockParameters[k]) }
            try dataParallel.finishAveraging()
        }
        return Date().timeIntervalSince(start) / Double(repeats)
    }

    /// Times `steps` optimisation steps of the first phase after `warmup` (at least one)
    /// untimed ones, with batches from the loader (`loadData`) or one batch reused (the step
    /// alone). Returns images per second, the peak resident memory of the last warm-up step and
    /// the timed steps, the resident memory before them (weights, optimizer state, data):
    /// peak − baseline is what the steps add, and the memory malloc holds free after them.
    /// Also the tensors' memory on the device over the same steps, and before them.
    static func time(_ setup: TrainingSetup, steps: Int, warmup: Int, loadData: Bool) throws
        -> (imagesPerSecond: Double, stepSeconds: [Double]?, stepCPUSeconds: [Double]?, stolenShare: Double?, peakMemoryMB: Double,
            baselineMemoryMB: Double, freeHeldMemoryMB: Double, tensorMemory: (beforeMB: Double, peakMB: Double)?)
    {
        precondition(warmup >= 1, "the peak is measured from the last warm-up step")
        let loader = try setup.loader(phase: 0)
        defer { loader.stop() }
        let first = try loader.next().value
        let phase = setup.plan.phases[0]
        let step = { _ = try setup.optimise(loadData ? try loader.next().value : first, phase: phase) }
        for _ in 1..<warmup { try step() }
        Runtime.synchronize(setup.device)
        ProcessMemory.resetPeak()
        try? TensorMemory.resetPeak(setup.device)
        let tensorsBefore = try? TensorMemory.of(setup.device)
        let baseline = ProcessMemory.currentMB()
        // The memory that resetPeak gave back is faulted in again here, not in the timed steps;
        // this step's peak is theirs.
        try step()
        Runtime.synchronize(setup.device)
        setup.dataParallel?.resetWaitTime()
        let machineStart = MachineTime.sample()
        let start = Date()
        var stepSeconds: [Double] = []
        var stepCPUSeconds: [Double] = []
        for _ in 0..<steps {
            let stepStart = Date()
            let cpuStart = MachineTime.processSeconds()
            try step()
            stepSeconds.append(Date().timeIntervalSince(stepStart))
            stepCPUSeconds.append(MachineTime.processSeconds() - cpuStart)
        }
        Runtime.synchronize(setup.device)
        let seconds = Date().timeIntervalSince(start)
        let stolen = MachineTime.sample().flatMap { end in machineStart.flatMap { MachineTime.stolenShare(from: $0, to: end) } }
        let megabytes = { (bytes: Int) in Double(bytes) / 1_048_576 }
        let tensors = try tensorsBefore.map { before in
            (beforeMB: megabytes(before.allocatedBytes), peakMB: megabytes(try TensorMemory.of(setup.device).peakAllocatedBytes))
        }
        let onCPU = setup.device == .cpu
        return (Double(steps * setup.config.data.batchSize) / seconds, onCPU ? stepSeconds : nil, onCPU ? stepCPUSeconds : nil, stolen,
                ProcessMemory.peakMB(), baseline, Runtime.freeHostMemoryHeldMB, tensors)
    }

    /// `blockwise bench --data SPEC --config FILE`: the loader's rate on `spec` against the rate
    /// of the configuration's training step, so the ratio says whether data ever makes training wait.
    public static func dataAgainstStep(spec: DatasetSpec, config: Config, batches: Int) throws -> DataBenchmark.Result {
        var config = config
        config.data.dataset = spec
        let setup = try TrainingSetup(config: config)
        let phase = setup.plan.phases[0]
        return try DataBenchmark.run(spec: spec, batchSize: config.data.batchSize, batches: batches, warmup: 2,
                                     device: setup.device, seed: 0, recipe: config.data.augmentation) { batch in
            _ = try setup.optimise(batch, phase: phase)
        }
    }
}
