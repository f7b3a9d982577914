import Foundation
import Torch

/// Resident memory of this process, from /proc (Linux).
public enum ProcessMemory {
    /// Peak resident set size in MB since start or since the last `resetPeak()` (VmHWM).
    public static func peakMB() -> Double { statusField("VmHWM") }

    /// Current resident set size in MB (VmRSS).
    public static func currentMB() -> Double { statusField("VmRSS") }

    /// Restarts the peak at the current size (writing 5 to /proc/self/clear_refs), so that
    /// one process can measure the peaks of several runs in turn. Memory freed earlier but still
    /// held by malloc is first given back (malloc_trim), so the new baseline is what is in use.
    public static func resetPeak() {
        Runtime.releaseFreeMemory()
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        handle.write(Data("5".utf8))
        try? handle.close()
    }

    /// Pages this process has faulted in without reading a file (minor faults, getrusage), in
    /// MB: mostly memory touched for the first time since it was mapped, which the kernel
    /// zeroes page by page. A loop that reuses its memory adds nothing here once warm.
    public static func freshPagesMB() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Double(usage.ru_minflt) * Double(sysconf(Int32(_SC_PAGESIZE))) / (1024 * 1024)
    }

    private static func statusField(_ name: String) -> Double {
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/status") else { return 0 }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }
            return (kilobytes ?? 0) / 1024
        }
        return 0
    }
}
