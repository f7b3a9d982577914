import CTorch

// Elementwise arithmetic with broadcasting and PyTorch's type promotion.

enum BinaryOp: Int32 {
    case add = 0, sub, mul, div, pow, maximum, minimum, remainder
    case eq, ne, lt, le, gt, ge, and, or, xor
    case matmul, mm, bmm, atan2, floorDivide
}

enum UnaryOp: Int32 {
    case neg = 0, exp, log, sqrt, rsqrt, abs, relu, sigmoid, tanh
    case erf, sin, cos, floor, ceil, round, sign, reciprocal
    case square, log1p, expm1, not, isnan, isfinite, log2, gelu
}

extension Tensor {
    @inline(__always) func binary(_ op: BinaryOp, _ other: Tensor) -> Tensor {
        Tensor.make { ct_binary(op.rawValue, handle, other.handle, $0) }
    }
    @inline(__always) func binary(_ op: BinaryOp, _ other: Scalar) -> Tensor {
        Tensor.make { ct_binary_scalar(op.rawValue, handle, other.c, $0) }
    }
    @inline(__always) func unary(_ op: UnaryOp) -> Tensor {
        Tensor.make { ct_unary(op.rawValue, handle, $0) }
    }
    @inline(__always) func unary_(_ op: UnaryOp) -> Tensor {
        check(ct_unary_(op.rawValue, handle))
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
        Tensor.make { ct_scalar_binary(op.rawValue, a.c, handle, $0) }
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
        check(ct_binary_scalar_(BinaryOp.add.rawValue, handle, Scalar.double(value).c)); return self
    }
    @discardableResult public func sub_(_ other: Tensor) -> Tensor {
        check(ct_binary_(BinaryOp.sub.rawValue, handle, other.handle)); return self
    }
    @discardableResult public func mul_(_ other: Tensor) -> Tensor {
        check(ct_binary_(BinaryOp.mul.rawValue, handle, other.handle)); return self
    }
    @discardableResult public func mul_(_ value: Double) -> Tensor {
        check(ct_binary_scalar_(BinaryOp.mul.rawValue, handle, Scalar.double(value).c)); return self
    }
    @discardableResult public func div_(_ other: Tensor) -> Tensor {
        check(ct_binary_(BinaryOp.div.rawValue, handle, other.handle)); return self
    }
    @discardableResult public func div_(_ value: Double) -> Tensor {
        check(ct_binary_scalar_(BinaryOp.div.rawValue, handle, Scalar.double(value).c)); return self
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
    @discardableResult public func neg_() -> Tensor { unary_(.neg) }
}
