import Testing
@testable import Blockwise

@Suite struct LaunchTests {
    @Test func torchrunsEnvironmentGivesRankWorldLocalRankAndMaster() throws {
        let launch = try Launch.fromEnvironment(["RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2",
                                                 "MASTER_ADDR": "node01", "MASTER_PORT": "29400"])
        #expect(launch == Launch(rank: 3, worldSize: 4, localRank: 1, localWorldSize: 2, masterAddress: "node01", masterPort: 29400))
        #expect(launch.isDistributed && !launch.isLeader)
    }

    @Test func slurmsEnvironmentGivesRankAndWorldWithTheUsersMaster() throws {
        let launch = try Launch.fromEnvironment(["SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1",
                                                 "SLURM_NTASKS_PER_NODE": "4(x2)", "MASTER_ADDR": "gpu-a"])
        #expect(launch == Launch(rank: 5, worldSize: 8, localRank: 1, localWorldSize: 4, masterAddress: "gpu-a", masterPort: 29500))
    }

    @Test func noLauncherOrAWorldOfOneIsASingleProcess() throws {
        #expect(try Launch.fromEnvironment([:]) == .single)
        #expect(try Launch.fromEnvironment(["RANK": "0", "WORLD_SIZE": "1"]) == .single)
        #expect(try Launch.fromEnvironment(["SLURM_NTASKS": "4"]) == .single)
    }

    @Test func aBadLaunchNamesTheVariable() {
        let cases: [([String: String], String)] = [
            (["RANK": "2", "WORLD_SIZE": "2", "MASTER_ADDR": "a"], "RANK=2 must be below WORLD_SIZE=2"),
            (["RANK": "0", "WORLD_SIZE": "2"], "MASTER_ADDR is not set"),
            (["RANK": "0", "WORLD_SIZE": "two", "MASTER_ADDR": "a"], "WORLD_SIZE=two is not a positive integer"),
            (["RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "a", "MASTER_PORT": "70000"], "MASTER_PORT=70000 is not a TCP port"),
            (["WORLD_SIZE": "2", "MASTER_ADDR": "a"], "RANK is not set"),
            (["SLURM_PROCID": "4", "SLURM_NTASKS": "4", "MASTER_ADDR": "a"], "SLURM_PROCID=4 must be below SLURM_NTASKS=4"),
        ]
        for (environment, message) in cases {
            let error = #expect(throws: LaunchError.self) { try Launch.fromEnvironment(environment) }
            #expect(error?.description.hasPrefix(message) == true, "\(environment): \(error?.description ?? "no error")")
        }
    }

    @Test func workersRunTheSameCommandWithoutTheLaunchOption() {
        #expect(LocalLauncher.workerArguments(["blockwise", "pretrain", "c.yaml", "--nproc-per-node", "2", "--set", "a=b"])
            == ["pretrain", "c.yaml", "--set", "a=b"])
        #expect(LocalLauncher.workerArguments(["blockwise", "pretrain", "--nproc-per-node=4"]) == ["pretrain"])
    }
}
