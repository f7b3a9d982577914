import Foundation

/// CPU time as the kernel accounts it (Linux): what this process ran, and how much of the
/// machine's time a hypervisor gave to other guests ("steal", /proc/stat). On a shared virtual
/// machine steal stretches wall-clock times with nothing in the program changed: on the 2-core
/// machine of these benchmarks it was 2% of the time over its first ten hours and 41% over 20 s
/// one morning, when the demo's end-to-end pretraining took 213.5 s against 92.6 s minutes
/// before. `bench` reports both, so that a figure measured while the machine was taken says so.
public enum MachineTime {
    /// CPU seconds this process has run so far, all its threads, user and system.
    public static func processSeconds() -> Double {
        var time = timespec()
        guard clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time) == 0 else { return 0 }
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The machine's CPU time so far, all CPUs, in the kernel's ticks.
    public struct Sample: Equatable, Sendable {
        /// User, nice, system, idle, iowait, irq, softirq and steal.
        public var total: Double
        /// Time a CPU of this guest was ready to run but the hypervisor ran another.
        public var stolen: Double
    }

    /// Now, from /proc/stat; nil where it cannot be read.
    public static func sample() -> Sample? {
        guard let handle = FileHandle(forReadingAtPath: "/proc/stat") else { return nil }
        defer { try? handle.close() }
        return parse(String(decoding: handle.readDataToEndOfFile(), as: UTF8.self))
    }

    /// /proc/stat's first line, `cpu  user nice system idle iowait irq softirq steal guest
    /// guest_nice`. Guest time is already inside user and nice, so it is not added again; a
    /// kernel too old to count steal leaves its field out, and counts none.
    static func parse(_ text: String) -> Sample? {
        guard let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        let fields = line.split(separator: " ").dropFirst().prefix(8).map { Double($0) }
        guard fields.count >= 4, fields.allSatisfy({ $0 != nil }) else { return nil }
        let ticks = fields.map { $0! }
        return Sample(total: ticks.reduce(0, +), stolen: ticks.count == 8 ? ticks[7] : 0)
    }

    /// From this share of stolen time, wall times are not those of a quiet machine (`bench` says so).
    public static let noticeableStolenShare = 0.05

    /// The share of the machine's CPU time stolen between two samples; nil where no time passed
    /// between them as the kernel counts it (a tick is 10 ms).
    public static func stolenShare(from start: Sample, to end: Sample) -> Double? {
        let total = end.total - start.total
        return total > 0 ? (end.stolen - start.stolen) / total : nil
    }
}
