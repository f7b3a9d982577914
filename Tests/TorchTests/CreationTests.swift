import Testing
import Torch

/// Tensors made from nothing: constants, ranges and identity matrices (values as PyTorch's).
@Suite struct CreationTests {
    @Test func zerosOnesAndFullHaveTheirShapeDtypeAndValue() {
        let z = Tensor.zeros([2, 3])
        #expect(z.shape == [2, 3] && z.dtype == .float32)
        #expect(z.toArray(Float.self) == [Float](repeating: 0, count: 6))
        let o = Tensor.ones([4], dtype: .int32)
        #expect(o.dtype == .int32 && o.toArray(Int32.self) == [1, 1, 1, 1])
        let f = Tensor.full([2, 2], 7, dtype: .int64)
        #expect(f.toArray(Int.self) == [7, 7, 7, 7])
        let g = Tensor.full([3], 0.5, dtype: .float64)
        #expect(g.toArray(Double.self) == [0.5, 0.5, 0.5])
    }

    @Test func zerosAndOnesLikeCopyShapeAndDtype() {
        let t = Tensor([1, 2, 3, 4, 5, 6] as [Int16], shape: [3, 2])
        #expect(Tensor.zeros(like: t).shape == [3, 2] && Tensor.zeros(like: t).dtype == .int16)
        #expect(Tensor.ones(like: t).toArray(Int16.self) == [1, 1, 1, 1, 1, 1])
    }

    @Test func emptyShapesHoldNoElements() {
        let t = Tensor.zeros([0, 3])
        #expect(t.count == 0 && t.shape == [0, 3])
        #expect(t.toArray(Float.self).isEmpty)
    }

    @Test func arangeOfIntegersIsInt64() {
        let t = Tensor.arange(0, 5)
        #expect(t.dtype == .int64)
        #expect(t.toArray(Int.self) == [0, 1, 2, 3, 4])
        #expect(Tensor.arange(2, 11, step: 3).toArray(Int.self) == [2, 5, 8])
        #expect(Tensor.arange(5, 0, step: -2).toArray(Int.self) == [5, 3, 1])
    }

    @Test func arangeWithAFractionalStepIsFloat32AsInPyTorch() {
        // torch.arange(0, 1, 0.25) → float32 [0, 0.25, 0.5, 0.75]
        let t = Tensor.arange(0, 1, step: 0.25)
        #expect(t.dtype == .float32)
        #expect(t.toArray(Float.self) == [0, 0.25, 0.5, 0.75])
        #expect(Tensor.arange(0.5, 3).toArray(Float.self) == [0.5, 1.5, 2.5])
        #expect(Tensor.arange(0, 4, dtype: .float64).toArray(Double.self) == [0, 1, 2, 3])
    }

    @Test func linspaceIncludesBothEnds() {
        let t = Tensor.linspace(-1, 1, steps: 5, dtype: .float64)
        #expect(t.toArray(Double.self) == [-1, -0.5, 0, 0.5, 1])
        #expect(Tensor.linspace(0, 1, steps: 1).toArray(Float.self) == [0])
    }

    @Test func eyeIsTheIdentity() {
        let t = Tensor.eye(3, dtype: .int64)
        #expect(t.toArray(Int.self) == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(t.matmul(Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9] as [Int], shape: [3, 3])).toArray(Int.self)
                == [1, 2, 3, 4, 5, 6, 7, 8, 9])
    }

    @Test func scalarInitialiserMakesAZeroDimensionalTensor() {
        let t = Tensor(2.5, dtype: .float64)
        #expect(t.shape == [] && t.rank == 0 && t.count == 1)
        #expect(t.item() == 2.5)
        #expect(Tensor(3, dtype: .int64).itemInt() == 3)
    }
}
