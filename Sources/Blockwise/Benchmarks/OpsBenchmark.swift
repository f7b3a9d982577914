import Foundation
import Torch

/// The cost of crossing the bridge: time per call of small CPU ops through Swift,
/// against the same op called in a C++ loop inside the bridge (libtorch's own cost).
public struct OpsBenchmark: Sendable {
    public struct Row: Sendable, Codable {
        public var op: String
        /// Microseconds per call through the Swift binding.
        public var swiftMicroseconds: Double
        /// Microseconds per call from C++ (nil where not measured natively).
        public var nativeMicroseconds: Double?
        /// Swift minus native: the bridge's own cost.
        public var overheadMicroseconds: Double?
    }

    public var iterations: Int

    public init(iterations: Int = 200_000) { self.iterations = iterations }

    public func run() -> [Row] {
        let a = Tensor.ones([1])
        let b = Tensor.ones([1])
        let m = Tensor.ones([8, 8])
        // Native first: it warms the allocator and dispatcher for both measurements.
        let native = (0..<3).map { _ in Runtime.nativeAddSeconds(iterations: iterations) }.min()! * 1e6
        let add = time { _ = a + b }
        var rows = [Row(op: "add [1]+[1]", swiftMicroseconds: add, nativeMicroseconds: native,
                        overheadMicroseconds: add - native)]
        rows.append(Row(op: "relu [1]", swiftMicroseconds: time { _ = a.relu() }))
        rows.append(Row(op: "mm [8x8]", swiftMicroseconds: time { _ = m.mm(m) }))
        rows.append(Row(op: "shape (read)", swiftMicroseconds: time { _ = m.shape }))
        return rows
    }

    /// Best of three runs, in microseconds per call.
    func time(_ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<iterations { body() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = min(best, seconds / Double(iterations) * 1e6)
        }
        return best
    }
}

extension OpsBenchmark.Row {
    init(op: String, swiftMicroseconds: Double) {
        self.init(op: op, swiftMicroseconds: swiftMicroseconds, nativeMicroseconds: nil, overheadMicroseconds: nil)
    }
}
