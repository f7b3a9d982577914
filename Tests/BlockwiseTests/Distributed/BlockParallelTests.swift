import Foundation
import Testing
import Torch
@testable import Blockwise

/// Block-parallel training (`distributed.strategy: blocks`) against the one-process
/// simultaneous run it stands for, resumes across strategies, and a lost rank.
///
/// Tolerance: none. Every block computes, in its own process, the same operations on the same
/// inputs with the same weights, noise stream and thread count (1) as in one process, and the
/// sums over blocks only add zeros to each block's numbers, so the runs agree bit for bit:
/// metrics, weights, optimizer state, probe and noise streams.
@Suite(.serialized) struct BlockParallelTests {
    static let blocks = ["--set", "distributed.strategy=blocks"]

    /// Each record's kind, step, losses and probe scores: everything but timings and memory.
    func results(_ run: String) throws -> [String] {
        try MetricsLog.read(path: run + "/metrics.jsonl").map { record in
            "\(record.kind) \(record.step) \(record.loss) \(String(describing: record.onlineProbeTop1))"
        }
    }

    /// "channels-last": the blocks' outputs go between processes in that order ([N, H, W, C]).
    @Test(arguments: ["simultaneous", "simultaneous recompute", "supervised-blockwise", "simultaneous channels-last"])
    func fourRanksTrainBitForBitAsOneProcess(_ setting: String) throws {
        let parts = setting.split(separator: " ")
        let folder = TemporaryFolder()
        let config = try writeTinyConfig(in: folder, ["training.mode=\(parts[0])", "model.noise=independent",
                                                      "training.recompute=\(parts.contains("recompute"))",
                                                      "model.memory_format=" + (parts.contains("channels-last") ? "channels-last" : "contiguous")])
        _ = try runBlockwise(["pretrain", config, "--out", folder.path + "/one"], folder: folder)
        let output = try runBlockwise(["pretrain", config, "--out", folder.path + "/four", "--nproc-per-node", "4"] + Self.blocks,
                                      folder: folder)
        #expect(output.contains("rank 3 of 4 (local rank 3 of 4), block 4 of 4"))
        let one = try results(folder.path + "/one"), four = try results(folder.path + "/four")
        #expect(one.count == 8 && one == four, "\(setting): \(one) against \(four)")
        #expect(try largestDifference(folder.path + "/one/checkpoints/last.safetensors",
                                      folder.path + "/four/checkpoints/last.safetensors") == 0)
        #expect(try largestDifference(folder.path + "/one/backbone.safetensors", folder.path + "/four/backbone.safetensors") == 0)
        let state = { (run: String) in try #require(try Checkpoint.readLast(run: RunDirectory(folder.path + run))).state }
        #expect(try state("/one") == state("/four"))
    }

    /// Two blocks, each data-parallel over two replicas: the replicas of a block average their
    /// gradients as data-parallel processes do, so the run equals a two-process data-parallel one.
    @Test func twoBlocksOfTwoReplicasTrainAsTwoDataParallelProcesses() throws {
        let folder = TemporaryFolder()
        let config = try writeTinyConfig(in: folder, ["model.partition=1+2,3+4", "model.noise=none"])
        let output = try runBlockwise(["pretrain", config, "--out", folder.path + "/blocks", "--nproc-per-node", "4"] + Self.blocks,
                                      folder: folder)
        #expect(output.contains("block 2 of 2, replica 2 of 2"))
        _ = try runBlockwise(["pretrain", config, "--out", folder.path + "/data", "--nproc-per-node", "2"], folder: folder)
        #expect(try results(folder.path + "/blocks") == results(folder.path + "/data"))
        #expect(try largestDifference(folder.path + "/blocks/checkpoints/last.safetensors",
                                      folder.path + "/data/checkpoints/last.safetensors") == 0)
    }

    /// Stopped with four block processes, resumed as one process, stopped again, resumed with
    /// four block processes: the weights equal an uninterrupted one-process run's.
    @Test func aRunMovesBetweenStrategiesAcrossResumesToTheSameWeights() throws {
        let folder = TemporaryFolder()
        let config = try writeTinyConfig(in: folder, ["training.epochs=6", "checkpoint.every_steps=1", "model.noise=independent"])
        _ = try runBlockwise(["pretrain", config, "--out", folder.path + "/straight"], folder: folder)
        let run = folder.path + "/moved"
        func stop(_ arguments: [String], after step: Int) throws -> Int {
            let process = try BlockwiseProcess(arguments, folder: folder)
            let file = run + String(format: "/checkpoints/step-%08d.safetensors", step)
            waitFor(file, while: process)
            kill(process.process.processIdentifier, SIGTERM)
            let status = process.wait()
            let stoppedAt = try #require(try Checkpoint.readLast(run: RunDirectory(run))).state.globalStep
            try #require(status == 130 && stoppedAt < 18, "the run was not stopped early (\(String(describing: status))):\n\(process.output)")
            return stoppedAt
        }
        let first = try stop(["pretrain", config, "--out", run, "--nproc-per-node", "4"] + Self.blocks, after: 2)
        _ = try stop(["pretrain", "--resume", run, "--set", "distributed.strategy=data"], after: first + 3)
        let output = try runBlockwise(["pretrain", "--resume", run, "--nproc-per-node", "4"] + Self.blocks, folder: folder)
        #expect(output.contains("block 4 of 4"))
        #expect(try largestDifference(folder.path + "/straight/checkpoints/last.safetensors", run + "/checkpoints/last.safetensors") == 0)
        #expect(try results(folder.path + "/straight") == results(run))
    }

    @Test func aKilledRankEndsTheOthersWithAnErrorNamingItsBlock() throws {
        let folder = TemporaryFolder()
        let config = try writeTinyConfig(in: folder, ["training.epochs=100", "checkpoint.every_steps=1", "run.timeout_s=20",
                                                      "distributed.strategy=blocks"])
        let run = folder.path + "/run"
        let ranks = try startRanks(4, ["pretrain", config, "--out", run], folder: folder)
        waitFor(run + "/checkpoints/step-00000002.safetensors", while: ranks[0])
        kill(ranks[2].process.processIdentifier, SIGKILL)
        let killed = Date()
        for rank in [0, 1, 3] {
            let status = ranks[rank].wait(timeout: 40)
            #expect(status != nil && status != 0, "rank \(rank) did not stop: \(ranks[rank].output)")
        }
        #expect(Date().timeIntervalSince(killed) < 30)
        for rank in [0, 3] {
            #expect(ranks[rank].output.contains("rank 2 (block 3)"), "rank \(rank): \(ranks[rank].output)")
        }
        // The last checkpoint is whole: a one-process run resumes from it.
        let checkpoint = try #require(try Checkpoint.readLast(run: RunDirectory(run)))
        #expect(checkpoint.state.globalStep >= 2)
    }

    /// Between GPUs of an NCCL group the outputs stay on the device; every other pairing goes
    /// through host memory, since Gloo's sends read host memory and NCCL's device memory.
    @Test func blockOutputsStayOnTheGPUOnlyBetweenNCCLRanks() {
        #expect(BlockPipeline.sendsOnDevice(backend: .nccl, device: .cuda(1)))
        #expect(!BlockPipeline.sendsOnDevice(backend: .gloo, device: .cuda(0)))
        #expect(!BlockPipeline.sendsOnDevice(backend: .gloo, device: .cpu))
        #expect(!BlockPipeline.sendsOnDevice(backend: .nccl, device: .cpu))
    }

    /// The header that precedes each step's tensors reads back as written, and a damaged one
    /// (a wrong length, dtype code, flag or shape) is refused rather than trusted.
    @Test func aStepHeaderRoundTripsAndADamagedOneIsRefused() {
        let header = BlockPipeline.Header(step: 7, position: DataPosition(epoch: 2, index: 384), stop: false, dtype: .bfloat16,
                                          onDevice: true, channelsLast: true, shape: [128, 64, 16, 16])
        let fields = header.tensor.toArray(Int64.self).map(Int.init)
        #expect(fields.count == BlockPipeline.Header.count)
        #expect(BlockPipeline.Header(fields) == header)
        for (index, value) in [(4, 9), (3, 2), (5, -1), (6, 2), (9, 0)] {
            var damaged = fields
            damaged[index] = value
            #expect(BlockPipeline.Header(damaged) == nil, "field \(index) = \(value)")
        }
        #expect(BlockPipeline.Header(Array(fields.dropLast())) == nil)
    }

    @Test func onlyModesThatTrainEveryBlockAtOnceRunBlockParallel() throws {
        let placement = try BlockPlacement(blocks: 4, rank: 5, worldSize: 8)
        #expect(placement.block == 1 && placement.replica == 1 && placement.below == 4 && placement.above == 6)
        for mode in [TrainingMode.simultaneous, .supervisedBlockwise] {
            try TrainingSetup.checkPipelined(try TrainingPlan(mode: mode, blocks: 4), placement: placement)
        }
        // Sequential training has a phase per block; random-frozen below the top block runs no block above.
        for plan in [try TrainingPlan(mode: .sequential, blocks: 4), try TrainingPlan(mode: .randomFrozen, blocks: 4, trainedBlock: 2)] {
            #expect(throws: RunError.self) { try TrainingSetup.checkPipelined(plan, placement: placement) }
        }
        #expect(throws: DistributedError.self) { try BlockPlacement(blocks: 4, rank: 0, worldSize: 6) }
    }

    @Test func aResumeMayChangeOnlyHowTheProcessesShareTheWork() throws {
        let folder = TemporaryFolder()
        let config = try writeTinyConfig(in: folder, ["training.epochs=1"])
        let run = folder.path + "/run"
        _ = try runBlockwise(["pretrain", config, "--out", run], folder: folder)
        let refused = try BlockwiseProcess(["pretrain", "--resume", run, "--set", "training.epochs=3"], folder: folder)
        #expect(refused.wait() != 0)
        #expect(refused.output.contains("may change only distributed.max_in_flight, distributed.strategy, run.timeout_s"), "\(refused.output)")
        _ = try runBlockwise(["pretrain", "--resume", run, "--set", "distributed.strategy=blocks"], folder: folder)
        #expect(try RunDirectory(run).config().distributed.strategy == .blocks)
    }
}
