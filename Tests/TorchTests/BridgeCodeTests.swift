import CTorch
import Foundation
import Testing
@testable import Torch

/// Each Swift enum that selects a bridge alternative is bound to the named constants of
/// ctorch.h: every case has its own constant, and the bridge does what the case says.
/// Each computation runs inside `withTorchErrors`, so a case bound to the wrong op fails
/// the test (a shape error, or wrong numbers) instead of stopping the process.
@Suite struct BridgeCodeTests {
    @Test func everyCaseMapsToItsOwnBridgeConstant() {
        #expect(Set(BinaryOp.allCases.map(\.code)).count == BinaryOp.allCases.count)
        #expect(Set(UnaryOp.allCases.map(\.code)).count == UnaryOp.allCases.count)
        #expect(Set(ReduceOp.allCases.map(\.code)).count == ReduceOp.allCases.count)
        #expect(Set(DType.allCases.map(\.code)).count == DType.allCases.count)
        #expect(Set(InterpolationMode.allCases.map(\.code)).count == InterpolationMode.allCases.count)
        #expect(Set(GridPadding.allCases.map(\.code)).count == GridPadding.allCases.count)
        #expect(Set(Reduction.allCases.map(\.code)).count == Reduction.allCases.count)
        #expect(Set(PaddingMode.allCases.map(\.code)).count == PaddingMode.allCases.count)
        #expect(Set(SpatialPooling.allCases.map(\.code)).count == SpatialPooling.allCases.count)
    }

    @Test(arguments: DType.allCases)
    func aTensorOfEachDTypeReportsThatDType(_ dtype: DType) throws {
        #expect(DType(code: dtype.code) == dtype)
        let reported = try withTorchErrors { Tensor.zeros([2], dtype: dtype).dtype }
        #expect(reported == dtype)
    }

    @Test func scalarKindsKeepPyTorchsTypePromotion() throws {
        let ints = Tensor([1, 2] as [Int32])
        let (intSum, halfSum, flags) = try withTorchErrors {
            (ints + 3, ints + 0.5, Tensor.zeros([2], dtype: .bool).fill_(.bool(true)))
        }
        #expect(intSum.dtype == .int32 && intSum.toArray(Int32.self) == [4, 5])
        #expect(halfSum.dtype == .float32 && halfSum.toArray(Float.self) == [1.5, 2.5])
        #expect(flags.toArray(Bool.self) == [true, true])
    }

    @Test(arguments: BinaryOp.allCases)
    func eachBinaryOpComputesWhatItsNameSays(_ op: BinaryOp) throws {
        let (a, b, expected) = Self.binaryExample(op)
        let result = try withTorchErrors { a.binary(op, b).to(.float64).toArray(Double.self) }
        #expect(close(result, expected), "\(op): \(result), expected \(expected)")
    }

    @Test(arguments: BinaryOp.allCases.filter { ![.matmul, .mm, .bmm].contains($0) })
    func eachElementwiseOpWithAScalarMatchesTheOpWithATensor(_ op: BinaryOp) throws {
        let a = Tensor([7.0, -3, 2])
        let (withScalar, withTensor) = try withTorchErrors {
            (a.binary(op, .double(2)).to(.float64).toArray(Double.self),
             a.binary(op, Tensor([2.0, 2, 2])).to(.float64).toArray(Double.self))
        }
        #expect(close(withScalar, withTensor), "\(op): \(withScalar), expected \(withTensor)")
    }

    @Test func inPlaceAndScalarFirstArithmeticComputeWhatTheirNamesSay() throws {
        let a = Tensor([7.0, -3, 2])
        let b = Tensor([2.0, 4, 2])
        let results = try withTorchErrors {
            [a.clone().sub_(b), a.clone().mul_(b), a.clone().div_(b), a.clone().add_(1), a.clone().mul_(2),
             a.clone().div_(2), 2.0 - a, 2.0 / a, 2.0 + a, 2.0 * a].map { $0.toArray(Double.self) }
        }
        let expected: [[Double]] = [[5, -7, 0], [14, -12, 4], [3.5, -0.75, 1], [8, -2, 3], [14, -6, 4],
                                    [3.5, -1.5, 1], [-5, 5, 0], [2.0 / 7, -2.0 / 3, 1], [9, -1, 4], [14, -6, 4]]
        #expect(results == expected)
    }

    @Test(arguments: UnaryOp.allCases)
    func eachUnaryOpComputesWhatItsNameSays(_ op: UnaryOp) throws {
        let x: [Double] = [0, 0.25, -1.5, 2.5]
        let expected = x.map { Self.unaryExample(op, $0) }
        let (result, inPlace) = try withTorchErrors {
            (Tensor(x).unary(op).to(.float64).toArray(Double.self), Tensor(x).unary_(op).toArray(Double.self))
        }
        #expect(close(result, expected), "\(op): \(result), expected \(expected)")
        #expect(close(inPlace, expected), "\(op) in place: \(inPlace), expected \(expected)")
    }

    @Test(arguments: ReduceOp.allCases)
    func eachReductionComputesWhatItsNameSays(_ op: ReduceOp) throws {
        let t = Tensor([0.0, 2, 3, 4], shape: [2, 2])
        let (whole, rows) = Self.reduceExample(op)
        let (all, perRow) = try withTorchErrors {
            (t.reduce(op, nil, false).to(.float64).toArray(Double.self),
             t.reduce(op, [1], false).to(.float64).toArray(Double.self))
        }
        #expect(close(all, [whole]), "\(op) over everything: \(all), expected \(whole)")
        #expect(close(perRow, rows), "\(op) per row: \(perRow), expected \(rows)")
    }

    // Expected values from torch 2.x: F.interpolate([0, 1], size=4, align_corners=False).
    @Test(arguments: InterpolationMode.allCases)
    func eachInterpolationModeResizesAsPyTorchDoes(_ mode: InterpolationMode) throws {
        let expected: [Double] = switch mode {
        case .nearest: [0, 0, 1, 1]
        case .bilinear: [0, 0.25, 0.75, 1]
        case .bicubic: [-0.10546875, 0.2265625, 0.7734375, 1.10546875]
        }
        let x = Tensor([0.0, 1], shape: [1, 1, 1, 2])
        let result = try withTorchErrors { interpolate(x, size: [1, 4], mode: mode).toArray(Double.self) }
        #expect(close(result, expected), "\(mode): \(result), expected \(expected)")
    }

    // Expected values from torch 2.x: F.grid_sample of [1, 2, 4, 8] at x = 0.1 (inside) and
    // x = 1.6 (outside), align_corners=False.
    @Test(arguments: InterpolationMode.allCases)
    func eachGridSampleModeSamplesAsPyTorchDoes(_ mode: InterpolationMode) throws {
        let expected: Double = switch mode {
        case .nearest: 4
        case .bilinear: 3.4
        case .bicubic: 3.04825
        }
        let result = try withTorchErrors { Self.sampleRow(at: 0.1, mode: mode, padding: .zeros) }
        #expect(close([result], [expected]), "\(mode): \(result), expected \(expected)")
    }

    @Test(arguments: GridPadding.allCases)
    func eachGridPaddingReadsOutsideTheInputAsPyTorchDoes(_ padding: GridPadding) throws {
        let expected: Double = switch padding {
        case .zeros: 0
        case .border: 8
        case .reflection: 5.2
        }
        let result = try withTorchErrors { Self.sampleRow(at: 1.6, mode: .bilinear, padding: padding) }
        #expect(close([result], [expected]), "\(padding): \(result), expected \(expected)")
    }

    @Test(arguments: Reduction.allCases)
    func eachLossReductionReducesAsItsNameSays(_ reduction: Reduction) throws {
        // Cross-entropy of logits [1, 2] for class 1 and [3, 1] for class 0.
        let losses = [Foundation.log(M_E + M_E * M_E) - 2, Foundation.log(M_E * M_E * M_E + M_E) - 3]
        let expected: [Double] = switch reduction {
        case .none: losses
        case .mean: [(losses[0] + losses[1]) / 2]
        case .sum: [losses[0] + losses[1]]
        }
        let logits = Tensor([1.0, 2, 3, 1], shape: [2, 2])
        let target = Tensor([1, 0] as [Int64])
        let result = try withTorchErrors {
            crossEntropy(logits, target, reduction: reduction).reshape([-1]).toArray(Double.self)
        }
        #expect(close(result, expected), "\(reduction): \(result), expected \(expected)")
    }

    @Test(arguments: PaddingMode.allCases)
    func eachPaddingModeFillsTheBorderAsItsNameSays(_ mode: PaddingMode) throws {
        let expected: [Double] = switch mode {
        case .constant: [9, 9, 1, 2, 3, 9]
        case .reflect: [3, 2, 1, 2, 3, 2]
        case .replicate: [1, 1, 1, 2, 3, 3]
        }
        let x = Tensor([1.0, 2, 3], shape: [1, 1, 1, 3])
        let result = try withTorchErrors { pad(x, [2, 1, 0, 0], mode: mode, value: 9).toArray(Double.self) }
        #expect(result == expected, "\(mode): \(result), expected \(expected)")
    }

    @Test func aCodeTheBridgeDoesNotKnowIsAnErrorNamingIt() throws {
        let x = Tensor([1.0, 2])
        let error = try #require(throws: TorchError.self) {
            try withTorchErrors { _ = Tensor.make { ct_unary(-1, x.handle, $0) } }
        }
        #expect(error.message == "unknown unary op -1")
    }

    /// Operands for `op` and the result PyTorch gives.
    static func binaryExample(_ op: BinaryOp) -> (Tensor, Tensor, [Double]) {
        let a = Tensor([7.0, -3, 2])
        let b = Tensor([2.0, 4, 2])
        let p = Tensor([1.0, 1, 0, 0])
        let q = Tensor([1.0, 0, 1, 0])
        let m = Tensor([1.0, 2, 3, 4], shape: [2, 2])
        let n = Tensor([5.0, 6, 7, 8], shape: [2, 2])
        switch op {
        case .add: return (a, b, [9, 1, 4])
        case .sub: return (a, b, [5, -7, 0])
        case .mul: return (a, b, [14, -12, 4])
        case .div: return (a, b, [3.5, -0.75, 1])
        case .pow: return (a, b, [49, 81, 4])
        case .maximum: return (a, b, [7, 4, 2])
        case .minimum: return (a, b, [2, -3, 2])
        case .remainder: return (a, b, [1, 1, 0])  // the sign of the divisor, as Python's %
        case .floorDivide: return (a, b, [3, -1, 1])
        case .atan2: return (a, b, [Foundation.atan2(7, 2), Foundation.atan2(-3, 4), Foundation.atan2(2, 2)])
        case .eq: return (a, b, [0, 0, 1])
        case .ne: return (a, b, [1, 1, 0])
        case .lt: return (a, b, [0, 1, 0])
        case .le: return (a, b, [0, 1, 1])
        case .gt: return (a, b, [1, 0, 0])
        case .ge: return (a, b, [1, 0, 1])
        case .and: return (p, q, [1, 0, 0, 0])
        case .or: return (p, q, [1, 1, 1, 0])
        case .xor: return (p, q, [0, 1, 1, 0])
        // A matrix times a vector: only matmul broadcasts, mm and bmm reject it.
        case .matmul: return (m, Tensor([5.0, 6]), [17, 39])
        case .mm: return (m, n, [19, 22, 43, 50])
        case .bmm: return (m.reshape([1, 2, 2]), n.reshape([1, 2, 2]), [19, 22, 43, 50])
        }
    }

    /// What `op` gives for `x`, in Swift's own arithmetic.
    static func unaryExample(_ op: UnaryOp, _ x: Double) -> Double {
        switch op {
        case .neg: return -x
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .log2: return Foundation.log2(x)
        case .log1p: return Foundation.log1p(x)
        case .expm1: return Foundation.expm1(x)
        case .sqrt: return x.squareRoot()
        case .rsqrt: return 1 / x.squareRoot()
        case .abs: return Swift.abs(x)
        case .relu: return Swift.max(x, 0)
        case .gelu: return x * 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .erf: return Foundation.erf(x)
        case .sin: return Foundation.sin(x)
        case .cos: return Foundation.cos(x)
        case .floor: return x.rounded(.down)
        case .ceil: return x.rounded(.up)
        case .round: return x.rounded(.toNearestOrEven)
        case .sign: return x > 0 ? 1 : x < 0 ? -1 : 0
        case .reciprocal: return 1 / x
        case .square: return x * x
        case .not: return x == 0 ? 1 : 0
        case .isnan: return x.isNaN ? 1 : 0
        case .isfinite: return x.isFinite ? 1 : 0
        }
    }

    /// `op` over all of [[0, 2], [3, 4]], and over each row.
    static func reduceExample(_ op: ReduceOp) -> (Double, [Double]) {
        let e = M_E
        switch op {
        case .sum: return (9, [2, 7])
        case .mean: return (2.25, [1, 3.5])
        case .prod: return (0, [0, 12])
        case .amax: return (4, [2, 4])
        case .amin: return (0, [0, 3])
        case .logsumexp:
            return (Foundation.log(1 + e * e + e * e * e + e * e * e * e),
                    [Foundation.log(1 + e * e), Foundation.log(e * e * e + e * e * e * e)])
        case .all: return (0, [0, 1])
        case .any: return (1, [1, 1])
        }
    }

    /// Samples the row [1, 2, 4, 8] at normalised x (y = 0).
    static func sampleRow(at x: Double, mode: InterpolationMode, padding: GridPadding) -> Double {
        let row = Tensor([1.0, 2, 4, 8], shape: [1, 1, 1, 4])
        let grid = Tensor([x, 0], shape: [1, 1, 1, 2])
        return gridSample(row, grid: grid, mode: mode, padding: padding).item()
    }
}

/// Equal within a relative 1e-9, with NaN equal to NaN and infinities exact.
private func close(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { x, y in
        if x.isNaN || y.isNaN { return x.isNaN && y.isNaN }
        if x.isInfinite || y.isInfinite { return x == y }
        return Swift.abs(x - y) <= 1e-9 * Swift.max(1, Swift.abs(y))
    }
}
