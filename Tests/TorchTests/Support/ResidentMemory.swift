#if canImport(Glibc)
import Glibc
#endif

/// This process's resident set size in bytes, from the second field of /proc/self/statm (pages).
/// Read with plain system calls so that reading it allocates nothing that would show up in it.
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    precondition(fd >= 0, "cannot open /proc/self/statm")
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    precondition(n > 0, "cannot read /proc/self/statm")
    let fields = buffer[..<n].split(separator: UInt8(ascii: " "))
    let pages = Int(String(decoding: fields[1], as: UTF8.self))!
    return pages * sysconf(Int32(_SC_PAGESIZE))
}

/// Parses the `growth=<bytes>` line a memory-measuring child process writes to standard error.
func reportedGrowth(_ standardError: [UInt8]) -> Int? {
    let text = String(decoding: standardError, as: UTF8.self)
    guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("growth=") }) else { return nil }
    return Int(line.dropFirst("growth=".count))
}
