import Testing
import Torch

/// Values go into a tensor and come back unchanged, in every dtype the binding knows.
@Suite struct ElementRoundTripTests {
    func roundTrip<T: TensorElement & Equatable>(_ values: [T], shape: [Int]) {
        let t = Tensor(values, shape: shape)
        #expect(t.dtype == T.dtype, "\(T.self)")
        #expect(t.shape == shape, "\(T.self)")
        #expect(t.toArray(T.self) == values, "\(T.self)")
    }

    @Test func everySwiftElementTypeRoundTrips() {
        roundTrip([1.5, -2.25, .pi, .greatestFiniteMagnitude, -0.0, 3] as [Float], shape: [2, 3])
        roundTrip([1.5, -2.25, .pi, .leastNonzeroMagnitude, 1e300, 0] as [Double], shape: [3, 2])
        roundTrip([1.5, -2.25, 0.099975586, 65504, 0, 1] as [Float16], shape: [6])
        roundTrip([Int.min, -1, 0, 1, Int.max, 42], shape: [1, 2, 3])
        roundTrip([Int64.min, -1, 0, 1, Int64.max, 42], shape: [6])
        roundTrip([Int32.min, -1, 0, 1, Int32.max, 42], shape: [2, 3])
        roundTrip([Int16.min, -1, 0, 1, Int16.max, 42], shape: [2, 3])
        roundTrip([Int8.min, -1, 0, 1, Int8.max, 42], shape: [2, 3])
        roundTrip([0, 1, 128, 255, 7, 42] as [UInt8], shape: [2, 3])
        roundTrip([true, false, false, true, true, false], shape: [3, 2])
    }

    @Test(arguments: DType.allCases)
    func conversionToEveryDtypeAndBackKeepsSmallIntegers(_ dtype: DType) {
        let values: [Double] = [0, 1, 1, 0, 1, 0]
        let converted = Tensor(values, shape: [2, 3]).to(dtype)
        #expect(converted.dtype == dtype)
        #expect(converted.shape == [2, 3])
        #expect(converted.to(.float64).toArray(Double.self) == values)
    }

    @Test func conversionToIntegerTruncatesTowardZero() {
        #expect(Tensor([1.7, -1.7, 2.5] as [Double]).to(.int64).toArray(Int.self) == [1, -1, 2])
        #expect(Tensor([0.0, 2, -0.5] as [Double]).to(.bool).toArray(Bool.self) == [false, true, true])
    }

    @Test func conversionToTheSameDtypeIsTheSameTensor() {
        let t = Tensor([1.0, 2])
        let same = t.to(.float64)
        same.fill_(9)
        #expect(t.toArray(Double.self) == [9, 9], "as in PyTorch, to() without a change returns self")
    }

    @Test func toArrayConvertsToTheRequestedType() {
        let t = Tensor([1, 2, 3] as [Int32])
        #expect(t.toArray(Double.self) == [1, 2, 3])
        #expect(t.toArray(Float.self) == [1, 2, 3])
        #expect(t.dtype == .int32, "reading does not change the tensor")
    }

    @Test func itemReadsOneElement() {
        #expect(Tensor([2.5] as [Float]).item() == 2.5)
        #expect(Tensor([7] as [Int]).itemInt() == 7)
        #expect(Tensor([1.0, 2, 3]).sum().item() == 6)
    }

    @Test func descriptionIsLibtorchsPrintout() {
        let text = Tensor([1, 2] as [Int]).description
        #expect(text.contains("1") && text.contains("2") && text.contains("Long"))
    }

    @Test func wrongDataSizeIsAnErrorNamingBothSizes() throws {
        let error = try #require(throws: TorchError.self) {
            try withTorchErrors { _ = Tensor([1.0, 2, 3], shape: [2, 2]) }
        }
        #expect(error.message == "shape [2, 2] needs 32 bytes of data, got 24")
    }
}
