import CTorch

/// Where a tensor lives.
public enum Device: Hashable, Sendable, CustomStringConvertible {
    case cpu
    case cuda(Int)

    /// The first CUDA device when one is usable, else the CPU.
    public static var best: Device { Runtime.cudaDeviceCount > 0 ? .cuda(0) : .cpu }

    /// Parses "cpu", "cuda", "cuda:N" or "auto" (the best available).
    public init?(_ text: String) {
        switch text {
        case "cpu": self = .cpu
        case "cuda": self = .cuda(0)
        case "auto", "best": self = Device.best
        default:
            guard text.hasPrefix("cuda:"), let index = Int(text.dropFirst(5)), index >= 0 else { return nil }
            self = .cuda(index)
        }
    }

    public var isCUDA: Bool { if case .cuda = self { return true } else { return false } }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let i): return "cuda:\(i)"
        }
    }

    var code: (type: Int32, index: Int32) {
        switch self {
        case .cpu: return (Int32(CT_DEVICE_CPU), 0)
        case .cuda(let i): return (Int32(CT_DEVICE_CUDA), Int32(i))
        }
    }

    func options(_ dtype: DType) -> ct_options {
        ct_options(dtype: dtype.code, device_type: code.type, device_index: code.index)
    }
}
