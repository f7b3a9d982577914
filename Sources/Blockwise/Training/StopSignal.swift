import Foundation

/// SIGINT and SIGTERM ask training to stop: the trainer checks between steps, writes a
/// checkpoint and returns, so an interrupted run resumes where it stopped. A second signal
/// stops the process at once.
public enum StopSignal {
    nonisolated(unsafe) private static var received: sig_atomic_t = 0

    public static func install() {
        // A process inherits its parent's blocked signals (a test runner, some supervisors):
        // unblocked here, or a stop request would never arrive.
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGINT)
        sigaddset(&blocked, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &blocked, nil)
        for number in [SIGINT, SIGTERM] {
            signal(number) { _ in
                if StopSignal.received != 0 { _exit(130) }
                StopSignal.received = 1
            }
        }
    }

    public static var requested: Bool { received != 0 }
}
