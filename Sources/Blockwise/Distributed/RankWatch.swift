import Foundation
import Torch

/// Tells which rank a failed exchange lost. Each rank's background thread counts its own
/// heartbeats into the group's rendezvous store; after a failure, a rank whose count stops
/// moving is gone. Counts, not clock times, so machines need not agree on the time. When the
/// store no longer answers, its server is gone: rank 0 (or the launcher that served it).
final class RankWatch: @unchecked Sendable {
    static let interval = 0.5
    let group: ProcessGroup
    /// A rank's name in errors: "rank 2", or with its block in block-parallel runs.
    let name: (Int) -> String
    private let beating = Flag()

    init(group: ProcessGroup, name: @escaping (Int) -> String = { "rank \($0)" }) {
        self.group = group
        self.name = name
        let key = Self.key(group.rank), beating = self.beating
        Thread {
            var beats = 0
            while beating.isSet {
                beats += 1
                try? group.setStoreValue("\(beats)", forKey: key)
                Thread.sleep(forTimeInterval: Self.interval)
            }
        }.start()
    }

    deinit { beating.clear() }

    /// A switch the heartbeat thread reads.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = true
        var isSet: Bool { lock.withLock { value } }
        func clear() { lock.withLock { value = false } }
    }

    static func key(_ rank: Int) -> String { "blockwise/heartbeat/\(rank)" }

    /// A sentence saying which ranks are gone, after an exchange failed with `message`.
    func explain(_ message: String) -> String {
        lostRanks() ?? "\(name(group.rank)) of \(group.worldSize): an exchange failed, but every other rank still runs (a timeout: run.timeout_s)"
    }

    /// A sentence naming the ranks gone, nil when every other rank still runs.
    func lostRanks() -> String? {
        let others = (0..<group.worldSize).filter { $0 != group.rank }
        do {
            let before = try others.map { try group.storeValue(forKey: Self.key($0)) }
            // Long enough for every live rank to beat at least twice.
            Thread.sleep(forTimeInterval: 3 * Self.interval)
            let after = try others.map { try group.storeValue(forKey: Self.key($0)) }
            let lost = others.indices.filter { before[$0] == after[$0] }.map { others[$0] }
            guard !lost.isEmpty else { return nil }
            let names = lost.map(name).joined(separator: ", ")
            return "\(name(group.rank)) of \(group.worldSize) lost \(names): it stopped answering"
        } catch {
            return "\(name(group.rank)) of \(group.worldSize) lost \(name(0)): the rendezvous store it serves (or its launcher's) no longer answers"
        }
    }
}
