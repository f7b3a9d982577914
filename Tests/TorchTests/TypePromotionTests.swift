import Testing
import Torch

/// Result dtypes follow PyTorch's type promotion (each expectation checked against torch 2.13).
@Suite struct TypePromotionTests {
    @Test func int64TensorPlusFloat32TensorIsFloat32() {
        #expect((Tensor([1, 2] as [Int]) + Tensor([1.5] as [Float])).dtype == .float32)
    }

    @Test func intTensorPlusSwiftIntKeepsTheTensorsIntegerType() {
        let sum = Tensor([1, 2] as [Int]) + 3
        #expect(sum.dtype == .int64)
        #expect(sum.toArray(Int.self) == [4, 5])
        #expect((Tensor([1, 2] as [Int32]) + 3).dtype == .int32)
        #expect((3 - Tensor([1, 2] as [Int])).dtype == .int64)
    }

    @Test func float32TensorPlusSwiftDoubleStaysFloat32() {
        #expect((Tensor([1, 2] as [Float]) + 2.5).dtype == .float32)
        #expect((2.5 * Tensor([1, 2] as [Float])).dtype == .float32)
        #expect((Tensor([1, 2] as [Float]).to(.float16) + 2.5).dtype == .float16)
    }

    @Test func intTensorPlusSwiftDoubleIsTheDefaultFloat32() {
        let sum = Tensor([1, 2] as [Int]) + 2.5
        #expect(sum.dtype == .float32)
        #expect(sum.toArray(Float.self) == [3.5, 4.5])
    }

    @Test func float64TensorWinsOverFloat32Tensor() {
        #expect((Tensor([1] as [Double]) + Tensor([1] as [Float])).dtype == .float64)
    }

    @Test func zeroDimensionalTensorDoesNotUpcastWithinItsCategory() {
        #expect((Tensor([1] as [Float]) + Tensor(2, dtype: .float64)).dtype == .float32)
        // A higher category still wins: an int tensor with a 0-dim float64 becomes float64.
        #expect((Tensor([1] as [Int32]) + Tensor(2, dtype: .float64)).dtype == .float64)
    }

    @Test func boolPromotesToTheOtherOperandsType() {
        let flags = Tensor([true, false])
        #expect((flags + Tensor([1, 2] as [Int])).dtype == .int64)
        #expect((flags + 1).dtype == .int64)
        #expect((flags + 1).toArray(Int.self) == [2, 1])
        #expect((flags * 2.5).dtype == .float32)
    }

    @Test func uint8WithInt8IsInt16() {
        #expect((Tensor([1] as [UInt8]) + Tensor([1] as [Int8])).dtype == .int16)
    }

    @Test func float16WithBFloat16IsFloat32() {
        let half = Tensor([1] as [Float]).to(.float16)
        let brain = Tensor([1] as [Float]).to(.bfloat16)
        #expect((half + brain).dtype == .float32)
    }

    @Test func comparisonsGiveBool() {
        let x = Tensor([1, 2, 3] as [Int])
        #expect((x .== 2).dtype == .bool)
        #expect((x .< Tensor([1.5] as [Float])).dtype == .bool)
        #expect((x .>= 2).toArray(Bool.self) == [false, true, true])
    }

    @Test func integerDivisionIsTrueDivisionToFloat() {
        let quotient = Tensor([5, 7] as [Int]) / Tensor([2, 2] as [Int])
        #expect(quotient.dtype == .float32)
        #expect(quotient.toArray(Float.self) == [2.5, 3.5])
        #expect((Tensor([5, 7] as [Int]) / 2).dtype == .float32)
        #expect((2 / Tensor([4] as [Int])).toArray(Float.self) == [0.5])
    }

    @Test func floorDivideKeepsIntegers() {
        let quotient = Tensor([5, -7] as [Int]).floorDivide(Tensor([2, 2] as [Int]))
        #expect(quotient.dtype == .int64)
        #expect(quotient.toArray(Int.self) == [2, -4])
    }
}
