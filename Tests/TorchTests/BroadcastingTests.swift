import Testing
import Torch

/// Shapes combine as NumPy and PyTorch broadcast them: aligned from the right, size 1 stretches.
@Suite struct BroadcastingTests {
    @Test(arguments: [
        ([2, 1, 3], [4, 1], [2, 4, 3]),
        ([3], [], [3]),
        ([5, 1, 4], [1, 3, 1], [5, 3, 4]),
        ([1], [2, 2], [2, 2]),
        ([0, 3], [1, 3], [0, 3]),
    ])
    func resultShapeIsTheBroadcastOfBothShapes(_ a: [Int], _ b: [Int], _ expected: [Int]) {
        #expect((Tensor.ones(a) + Tensor.ones(b)).shape == expected)
        #expect((Tensor.ones(b) * Tensor.ones(a)).shape == expected)
    }

    @Test func broadcastValuesRepeatAlongStretchedDimensions() {
        let a = Tensor([0.0, 10, 20], shape: [3, 1])
        let b = Tensor([1.0, 2, 3, 4], shape: [1, 4])
        var expected: [Double] = []
        for i in 0..<3 { for j in 0..<4 { expected.append(Double(i) * 10 + Double(j + 1)) } }
        #expect((a + b).toArray(Double.self) == expected)
    }

    @Test func incompatibleShapesThrowLibtorchsMessage() throws {
        let error = try #require(throws: TorchError.self) {
            try withTorchErrors { _ = Tensor.ones([2, 3]) + Tensor.ones([4]) }
        }
        #expect(error.message.contains("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"))
    }

    @Test func expandIsABroadcastViewOfTheSameStorage() {
        let base = Tensor([1.0, 2, 3], shape: [3, 1])
        let wide = base.expand([3, 4])
        #expect(wide.shape == [3, 4])
        #expect(wide.strides == [1, 0])
        base.mul_(2)
        #expect(wide.toArray(Double.self) == [2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6])
    }
}
