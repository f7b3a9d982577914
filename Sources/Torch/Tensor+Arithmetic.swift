import CTorch

// Elementwise arithmetic with broadcasting and PyTorch's type promotion.

/// An elementwise or matrix op of two operands (ct_binary and its variants).
enum BinaryOp: CaseIterable {
    case add, sub, mul, div, pow, maximum, minimum, remainder, floorDivide, atan2
    case eq, ne, lt, le, gt, ge, and, or, xor
    case matmul, mm, bmm

    /// The bridge's constant for this op.
    var code: Int32 {
        switch self {
        case .add: return Int32(CT_BINARY_ADD)
        case .sub: return Int32(CT_BINARY_SUB)
        case .mul: return Int32(CT_BINARY_MUL)
        case .div: return Int32(CT_BINARY_DIV)
        case .pow: return Int32(CT_BINARY_POW)
        case .maximum: return Int32(CT_BINARY_MAXIMUM)
        case .minimum: return Int32(CT_BINARY_MINIMUM)
        case .remainder: return Int32(CT_BINARY_REMAINDER)
        case .floorDivide: return Int32(CT_BINARY_FLOOR_DIVIDE)
        case .atan2: return Int32(CT_BINARY_ATAN2)
        case .eq: return Int32(CT_BINARY_EQ)
        case .ne: return Int32(CT_BINARY_NE)
        case .lt: return Int32(CT_BINARY_LT)
        case .le: return Int32(CT_BINARY_LE)
        case .gt: return Int32(CT_BINARY_GT)
        case .ge: return Int32(CT_BINARY_GE)
        case .and: return Int32(CT_BINARY_AND)
        case .or: return Int32(CT_BINARY_OR)
        case .xor: return Int32(CT_BINARY_XOR)
        case .matmul: return Int32(CT_BINARY_MATMUL)
        case .mm: return Int32(CT_BINARY_MM)
        case .bmm: return Int32(CT_BINARY_BMM)
        }
    }
}

/// An elementwise op of one operand (ct_unary).
enum UnaryOp: CaseIterable {
    case neg, exp, log, log2, log1p, expm1, sqrt, rsqrt, abs, relu, gelu, sigmoid, tanh
    case erf, sin, cos, floor, ceil, round, sign, reciprocal, square, not, isnan, isfinite

    /// The bridge's constant for this op.
    var code: Int32 {
        switch self {
        case .neg: return Int32(CT_UNARY_NEG)
        case .exp: return Int32(CT_UNARY_EXP)
        case .log: return Int32(CT_UNARY_LOG)
        case .log2: return Int32(CT_UNARY_LOG2)
        case .log1p: return Int32(CT_UNARY_LOG1P)
        case .expm1: return Int32(CT_UNARY_EXPM1)
        case .sqrt: return Int32(CT_UNARY_SQRT)
        case .rsqrt: return Int32(CT_UNARY_RSQRT)
        case .abs: return Int32(CT_UNARY_ABS)
        case .relu: return Int32(CT_UNARY_RELU)
        case .gelu: return Int32(CT_UNARY_GELU)
        case .sigmoid: return Int32(CT_UNARY_SIGMOID)
        case .tanh: return Int32(CT_UNARY_TANH)
        case .erf: return Int32(CT_UNARY_ERF)
        case .sin: return Int32(CT_UNARY_SIN)
        case .cos: return Int32(CT_UNARY_COS)
        case .floor: return Int32(CT_UNARY_FLOOR)
        case .ceil: return Int32(CT_UNARY_CEIL)
        case .round: return Int32(CT_UNARY_ROUND)
        case .sign: return Int32(CT_UNARY_SIGN)
        case .reciprocal: return Int32(CT_UNARY_RECIPROCAL)
        case .square: return Int32(CT_UNARY_SQUARE)
        case .not: return Int32(CT_UNARY_NOT)
        case .isnan: return Int32(CT_UNARY_ISNAN)
        case .isfinite: return Int32(CT_UNARY_ISFINITE)
        }
    }
}

extension Tensor {
    @inline(__always) func binary(_ op: BinaryOp, _ other: Tensor) -> Tensor {
        Tensor.make { ct_binary(op.code, handle, other.handle, $0) }
    }
    @inline(__always) func binary(_ op: BinaryOp, _ other: Scalar) -> Tensor {
        Tensor.make { ct_binary_scalar(op.code, handle, other.c, $0) }
    }
    @inline(__always) func unary(_ op: UnaryOp) -> Tensor {
        Tensor.make { ct_unary(op.code, handle, $0) }
    }
    @inline(__always) func unary_(_ op: UnaryOp) -> Tensor {
        check(ct_unary_(op.code, handle))
        return self
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary(.sub, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary(.mul, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.binary(.div, b) }
    public static prefix func - (a: Tensor) -> Tensor { a.unary(.neg) }

    public static func + (a: Tensor, b: Double) -> Tensor { a.binary(.add, .double(b)) }
    public static func - (a: Tensor, b: Double) -> Tensor { a.binary(.sub, .double(b)) }
    public static func * (a: Tensor, b: Double) -> Tensor { a.binary(.mul, .double(b)) }
    public static func / (a: Tensor, b: Double) -> Tensor { a.binary(.div, .double(b)) }
    public static func + (a: Tensor, b: Int) -> Tensor { a.binary(.add, .int(b)) }
    public static func - (a: Tensor, b: Int) -> Tensor { a.binary(.sub, .int(b)) }
    public static func * (a: Tensor, b: Int) -> Tensor { a.binary(.mul, .int(b)) }
    public static func / (a: Tensor, b: Int) -> Tensor { a.binary(.div, .int(b)) }

    public static func + (a: Double, b: Tensor) -> Tensor { b.scalarFirst(.add, .double(a)) }
    public static func - (a: Double, b: Tensor) -> Tensor { b.scalarFirst(.sub, .double(a)) }
    public static func * (a: Double, b: Tensor) -> Tensor { b.scalarFirst(.mul, .double(a)) }
    public static func / (a: Double, b: Tensor) -> Tensor { b.scalarFirst(.div, .double(a)) }
    public static func + (a: Int, b: Tensor) -> Tensor { b.scalarFirst(.add, .int(a)) }
    public static func - (a: Int, b: Tensor) -> Tensor { b.scalarFirst(.sub, .int(a)) }
    public static func * (a: Int, b: Tensor) -> Tensor { b.scalarFirst(.mul, .int(a)) }
    public static func / (a: Int, b: Tensor) -> Tensor { b.scalarFirst(.div, .int(a)) }

    private func scalarFirst(_ op: BinaryOp, _ a: Scalar) -> Tensor {
        Tensor.make { ct_scalar_binary(op.code, a.c, handle, $0) }
    }

    // Comparisons give bool tensors; `.==` keeps `==` free for identity-free Swift semantics.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { a.binary(.eq, b) }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { a.binary(.ne, b) }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { a.binary(.lt, b) }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { a.binary(.le, b) }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { a.binary(.gt, b) }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { a.binary(.ge, b) }
    public static func .== (a: Tensor, b: Scalar) -> Tensor { a.binary(.eq, b) }
    public static func .!= (a: Tensor, b: Scalar) -> Tensor { a.binary(.ne, b) }
    public static func .< (a: Tensor, b: Scalar) -> Tensor { a.binary(.lt, b) }
    public static func .<= (a: Tensor, b: Scalar) -> Tensor { a.binary(.le, b) }
    public static func .> (a: Tensor, b: Scalar) -> Tensor { a.binary(.gt, b) }
    public static func .>= (a: Tensor, b: Scalar) -> Tensor { a.binary(.ge, b) }

    public func logicalAnd(_ other: Tensor) -> Tensor { binary(.and, other) }
    public func logicalOr(_ other: Tensor) -> Tensor { binary(.or, other) }
    public func logicalXor(_ other: Tensor) -> Tensor { binary(.xor, other) }
    public func logicalNot() -> Tensor { unary(.not) }

    public func pow(_ exponent: Tensor) -> Tensor { binary(.pow, exponent) }
    public func pow(_ exponent: Double) -> Tensor { binary(.pow, .double(exponent)) }
    public func maximum(_ other: Tensor) -> Tensor { binary(.maximum, other) }
    public func minimum(_ other: Tensor) -> Tensor { binary(.minimum, other) }
    public func remainder(_ other: Tensor) -> Tensor { binary(.remainder, other) }
    public func floorDivide(_ other: Tensor) -> Tensor { binary(.floorDivide, other) }
    public func atan2(_ other: Tensor) -> Tensor { binary(.atan2, other) }

    public func exp() -> Tensor { unary(.exp) }
    public func log() -> Tensor { unary(.log) }
    public func log2() -> Tensor { unary(.log2) }
    public func log1p() -> Tensor { unary(.log1p) }
    public func expm1() -> Tensor { unary(.expm1) }
    public func sqrt() -> Tensor { unary(.sqrt) }
    public func rsqrt() -> Tensor { unary(.rsqrt) }
    public func abs() -> Tensor { unary(.abs) }
    public func relu() -> Tensor { unary(.relu) }
    public func gelu() -> Tensor { unary(.gelu) }
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    public func tanh() -> Tensor { unary(.tanh) }
    public func erf() -> Tensor { unary(.erf) }
    public func sin() -> Tensor { unary(.sin) }
    public func cos() -> Tensor { unary(.cos) }
    public func floor() -> Tensor { unary(.floor) }
    public func ceil() -> Tensor { unary(.ceil) }
    public func round() -> Tensor { unary(.round) }
    public func sign() -> Tensor { unary(.sign) }
    public func reciprocal() -> Tensor { unary(.reciprocal) }
    public func square() -> Tensor { unary(.square) }
    public func isNaN() -> Tensor { unary(.isnan) }
    public func isFinite() -> Tensor { unary(.isfinite) }

    /// Limits values to [min, max]; either bound may be left out.
    public func clamp(min: Double? = nil, max: Double? = nil) -> Tensor {
        Tensor.make { ct_clamp(handle, min == nil ? 0 : 1, min ?? 0, max == nil ? 0 : 1, max ?? 0, $0) }
    }

    public func softmax(dim: Int) -> Tensor { Tensor.make { ct_softmax(handle, Int64(dim), $0) } }
    public func logSoftmax(dim: Int) -> Tensor { Tensor.make { ct_log_softmax(handle, Int64(dim), $0) } }

    /// `value` where `mask` is true, self elsewhere.
    public func maskedFill(_ mask: Tensor, _ value: Scalar) -> Tensor {
        Tensor.make { ct_masked_fill(handle, mask.handle, value.c, $0) }
    }

    /// Matrix product with NumPy's broadcasting rules (`torch.matmul`).
    public func matmul(_ other: Tensor) -> Tensor { binary(.matmul, other) }
    /// Product of two matrices.
    public func mm(_ other: Tensor) -> Tensor { binary(.mm, other) }
    /// Batched product of [b, n, m] and [b, m, p].
    public func bmm(_ other: Tensor) -> Tensor { binary(.bmm, other) }
}

/// `a` where `condition` is true, `b` elsewhere.
public func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    Tensor.make { ct_where(condition.handle, a.handle, b.handle, $0) }
}

infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence

// In place, for optimizers and buffers: each returns self.
extension Tensor {
    @discardableResult public func add_(_ other: Tensor, alpha: Double = 1) -> Tensor {
        check(ct_add_scaled_(handle, other.handle, alpha)); return self
    }
    @discardableResult public func add_(_ value: Double) -> Tensor {
        check(ct_binary_scalar_(BinaryOp.add.code, handle, Scalar.double(value).c)); return self
    }
    @discardableResult public func sub_(_ other: Tensor) -> Tensor {
        check(ct_binary_(BinaryOp.sub.code, handle, other.handle)); return self
    }
    @discardableResult public func mul_(_ other: Tensor) -> Tensor {
        check(ct_binary_(BinaryOp.mul.code, handle, other.handle)); return self
    }
    @discardableResult public func mul_(_ value: Double) -> Tensor {
        check(ct_binary_scalar_(BinaryOp.mul.code, handle, Scalar.double(value).c)); return self
    }
    @discardableResult public func div_(_ other: Tensor) -> Tensor {
        check(ct_binary_(BinaryOp.div.code, handle, other.handle)); return self
    }
    @discardableResult public func div_(_ value: Double) -> Tensor {
        check(ct_binary_scalar_(BinaryOp.div.code, handle, Scalar.double(value).c)); return self
    }
    /// self += value · a · b
    @discardableResult public func addcmul_(_ a: Tensor, _ b: Tensor, value: Double = 1) -> Tensor {
        check(ct_addcmul_(handle, a.handle, b.handle, value)); return self
    }
    /// self += value · a / b
    @discardableResult public func addcdiv_(_ a: Tensor, _ b: Tensor, value: Double = 1) -> Tensor {
        check(ct_addcdiv_(handle, a.handle, b.handle, value)); return self
    }
    /// self += weight · (end − self)
    @discardableResult public func lerp_(_ end: Tensor, weight: Double) -> Tensor {
        check(ct_lerp_(handle, end.handle, weight)); return self
    }
    @discardableResult public func copy_(_ source: Tensor) -> Tensor {
        check(ct_copy_(handle, source.handle)); return self
    }
    @discardableResult public func zero_() -> Tensor { check(ct_zero_(handle)); return self }
    @discardableResult public func fill_(_ value: Scalar) -> Tensor { check(ct_fill_(handle, value.c)); return self }
    @discardableResult public func clamp_(min: Double? = nil, max: Double? = nil) -> Tensor {
        check(ct_clamp_(handle, min == nil ? 0 : 1, min ?? 0, max == nil ? 0 : 1, max ?? 0)); return self
    }
    @discardableResult public func sqrt_() -> Tensor { unary_(.sqrt) }
    @discardableResult public func relu_() -> Tensor { unary_(.relu) }
    /// `relu_()` whose backward keeps only where the input passed (a bit per value) rather than
    /// the output, so the output is freed as soon as nothing else holds it: for contiguous CPU
    /// tensors of float32, float64 and bfloat16; `relu_()` itself for others. The
    /// gradient equals `relu_()`'s exactly; no second derivative.
    @discardableResult public func reluKeepingMask_() -> Tensor { check(ct_relu_keeping_mask_(handle)); return self }
    @discardableResult public func neg_() -> Tensor { unary_(.neg) }
}
