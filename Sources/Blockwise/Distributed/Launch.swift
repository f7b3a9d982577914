import Foundation

/// Where this process stands in a run of several processes, as its launcher says in the
/// environment. Two contracts are read:
///
/// - torchrun's (and `blockwise pretrain --nproc-per-node`'s): `RANK`, `WORLD_SIZE`,
///   `LOCAL_RANK`, `LOCAL_WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`;
/// - SLURM's `srun`: `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID`, `SLURM_NTASKS_PER_NODE`,
///   with `MASTER_ADDR` (and optionally `MASTER_PORT`) given by the user.
///
/// Without either, or with a world of one, the run is a single process.
public struct Launch: Equatable, Sendable, CustomStringConvertible {
    public var rank: Int
    public var worldSize: Int
    /// The rank among the processes of this machine: which GPU it takes.
    public var localRank: Int
    public var localWorldSize: Int
    /// Where rank 0 serves the rendezvous.
    public var masterAddress: String
    public var masterPort: Int
    /// The launcher already serves the rendezvous store at the master address (torchrun's
    /// agent, which says so with `TORCHELASTIC_USE_AGENT_STORE=True`): rank 0 connects to it.
    public var storeServed = false

    /// torchrun's default port.
    public static let defaultPort = 29500

    public static let single = Launch(rank: 0, worldSize: 1, localRank: 0, localWorldSize: 1,
                                      masterAddress: "127.0.0.1", masterPort: defaultPort)

    public init(rank: Int, worldSize: Int, localRank: Int, localWorldSize: Int, masterAddress: String, masterPort: Int) {
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank
        self.localWorldSize = localWorldSize
        self.masterAddress = masterAddress
        self.masterPort = masterPort
    }

    public var isDistributed: Bool { worldSize > 1 }

    /// Rank 0 writes the run directory and reports progress.
    public var isLeader: Bool { rank == 0 }

    public var description: String { "rank \(rank) of \(worldSize) (local rank \(localRank) of \(localWorldSize))" }

    /// The launch this process's environment describes; errors name the variable and what it should hold.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Launch {
        let reader = EnvironmentReader(environment: environment)
        let rank: Int, worldSize: Int, localRank: Int, localWorldSize: Int
        if environment["RANK"] != nil || environment["WORLD_SIZE"] != nil {
            worldSize = try reader.count("WORLD_SIZE")
            rank = try reader.index("RANK", below: worldSize, of: "WORLD_SIZE")
            localWorldSize = try reader.optionalCount("LOCAL_WORLD_SIZE") ?? 1
            localRank = try reader.optionalIndex("LOCAL_RANK", below: localWorldSize, of: "LOCAL_WORLD_SIZE") ?? 0
        } else if environment["SLURM_PROCID"] != nil {
            worldSize = try reader.count("SLURM_NTASKS")
            rank = try reader.index("SLURM_PROCID", below: worldSize, of: "SLURM_NTASKS")
            // "4" or "4(x2)": the tasks of each node.
            localWorldSize = environment["SLURM_NTASKS_PER_NODE"].flatMap { Int($0.prefix { $0.isNumber }) } ?? 1
            localRank = try reader.optionalIndex("SLURM_LOCALID", below: max(localWorldSize, 1), of: "SLURM_NTASKS_PER_NODE") ?? 0
        } else {
            return .single
        }
        guard worldSize > 1 else { return .single }
        guard let address = environment["MASTER_ADDR"], !address.isEmpty else {
            throw LaunchError("MASTER_ADDR is not set: give the address of the machine of rank 0 (e.g. MASTER_ADDR=node01), as torchrun does")
        }
        let port = try reader.optionalCount("MASTER_PORT") ?? defaultPort
        guard port < 65536 else { throw LaunchError("MASTER_PORT=\(port) is not a TCP port (1–65535)") }
        var launch = Launch(rank: rank, worldSize: worldSize, localRank: localRank, localWorldSize: localWorldSize,
                            masterAddress: address, masterPort: port)
        launch.storeServed = environment["TORCHELASTIC_USE_AGENT_STORE"]?.lowercased() == "true"
        return launch
    }
}

/// A launch that cannot work, saying which variable to fix.
public struct LaunchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Numbers from environment variables, each error naming the variable.
private struct EnvironmentReader {
    let environment: [String: String]

    func optionalCount(_ name: String) throws -> Int? {
        guard let text = environment[name] else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 1 else {
            throw LaunchError("\(name)=\(text) is not a positive integer")
        }
        return value
    }

    func count(_ name: String) throws -> Int {
        guard let value = try optionalCount(name) else { throw LaunchError("\(name) is not set") }
        return value
    }

    func optionalIndex(_ name: String, below bound: Int, of boundName: String) throws -> Int? {
        guard let text = environment[name] else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
            throw LaunchError("\(name)=\(text) is not a non-negative integer")
        }
        guard value < bound else { throw LaunchError("\(name)=\(value) must be below \(boundName)=\(bound)") }
        return value
    }

    func index(_ name: String, below bound: Int, of boundName: String) throws -> Int {
        guard let value = try optionalIndex(name, below: bound, of: boundName) else { throw LaunchError("\(name) is not set") }
        return value
    }
}
