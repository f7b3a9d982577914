import CTorch
#if canImport(Glibc)
import Glibc
#endif

/// An error reported by libtorch, with libtorch's own message.
public struct TorchError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Runs `body` turning every libtorch error inside it into a thrown `TorchError`.
///
/// Outside such a scope a libtorch error is a programmer error: the process prints
/// libtorch's message and stops. Inside it, the first error is kept, the failed
/// operation yields an undefined tensor (later operations on it fail too, without
/// effect), and the error is thrown when the scope ends. Use it where the input is
/// untrusted: files, user configuration.
public func withTorchErrors<R>(_ body: () throws -> R) throws -> R {
    ct_trap_push()
    let result: R
    do {
        result = try body()
    } catch {
        _ = ct_trap_pop()
        throw error
    }
    if let message = ct_trap_pop() {
        throw TorchError(message: String(cString: message))
    }
    return result
}

/// Checks a bridge status. A failure outside `withTorchErrors` stops the process with
/// libtorch's message (set `TORCH_SWIFT_TRAP=1` to get a crash and a backtrace instead).
@inline(__always)
func check(_ status: Int32) {
    if status != 0 { failed() }
}

@inline(never)
func failed() {
    if ct_trap_depth() > 0 { return }
    stop(libtorchMessage: String(cString: ct_last_error()))
}

/// Stops the process with libtorch's message and, when set, `Runtime.failureContext`'s
/// explanation of it (e.g. which rank of a distributed run was lost).
func stop(libtorchMessage message: String) -> Never {
    if getenv("TORCH_SWIFT_TRAP") != nil { fatalError("libtorch: \(message)") }
    fflush(nil)
    if let context = Runtime.failureContext?(message) {
        writeStandardError("error: \(context) (libtorch: \(message))\n")
    } else {
        writeStandardError("error: libtorch: \(message)\n")
    }
    _exit(1)
}

/// Writes straight to file descriptor 2, unbuffered.
public func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
