import CTorch

/// The element type of a tensor: a runtime value, as in PyTorch.
public enum DType: CaseIterable, Sendable, CustomStringConvertible {
    case float32, float64, float16, bfloat16, int64, int32, uint8, bool, int8, int16

    /// The bridge's constant for this dtype.
    var code: Int32 {
        switch self {
        case .float32: return Int32(CT_DTYPE_FLOAT32)
        case .float64: return Int32(CT_DTYPE_FLOAT64)
        case .float16: return Int32(CT_DTYPE_FLOAT16)
        case .bfloat16: return Int32(CT_DTYPE_BFLOAT16)
        case .int64: return Int32(CT_DTYPE_INT64)
        case .int32: return Int32(CT_DTYPE_INT32)
        case .uint8: return Int32(CT_DTYPE_UINT8)
        case .bool: return Int32(CT_DTYPE_BOOL)
        case .int8: return Int32(CT_DTYPE_INT8)
        case .int16: return Int32(CT_DTYPE_INT16)
        }
    }

    /// The dtype the bridge reports with `code`, nil for a code it never reports.
    init?(code: Int32) {
        guard let dtype = DType.allCases.first(where: { $0.code == code }) else { return nil }
        self = dtype
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float64, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .uint8, .bool, .int8: return 1
        }
    }

    public var description: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        case .int64: return "int64"
        case .int32: return "int32"
        case .uint8: return "uint8"
        case .bool: return "bool"
        case .int8: return "int8"
        case .int16: return "int16"
        }
    }
}

/// A Swift type whose values a tensor can hold and give back.
public protocol TensorElement: Sendable {
    static var dtype: DType { get }
}

extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension Double: TensorElement { public static var dtype: DType { .float64 } }
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: TensorElement { public static var dtype: DType { .float16 } }
#endif
extension Int: TensorElement { public static var dtype: DType { .int64 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension Int16: TensorElement { public static var dtype: DType { .int16 } }
extension Int8: TensorElement { public static var dtype: DType { .int8 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }

/// A number in an expression with tensors. Integers keep integer arithmetic, as Python ints do.
public enum Scalar: Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral {
    case int(Int)
    case double(Double)
    case bool(Bool)

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    var c: ct_scalar {
        switch self {
        case .int(let i): return ct_scalar(f: Double(i), i: Int64(i), kind: Int32(CT_SCALAR_INT))
        case .double(let d): return ct_scalar(f: d, i: 0, kind: Int32(CT_SCALAR_DOUBLE))
        case .bool(let b): return ct_scalar(f: b ? 1 : 0, i: b ? 1 : 0, kind: Int32(CT_SCALAR_BOOL))
        }
    }
}
