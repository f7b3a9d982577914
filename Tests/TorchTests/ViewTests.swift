import Testing
import Torch

/// Views share storage with their base, as in PyTorch: a write through one shows through the other.
@Suite struct ViewTests {
    func base() -> Tensor { Tensor.arange(0, 12, dtype: .float64).reshape([3, 4]) }

    @Test func writingIntoARowShowsInTheBase() {
        let t = base()
        t[1].fill_(-1)
        #expect(t.toArray(Double.self) == [0, 1, 2, 3, -1, -1, -1, -1, 8, 9, 10, 11])
    }

    @Test func writingIntoASteppedSliceShowsInTheBase() {
        let t = base()
        t.slice(dim: 1, start: 0, end: 4, step: 2).zero_()
        #expect(t.toArray(Double.self) == [0, 1, 0, 3, 0, 5, 0, 7, 0, 9, 0, 11])
    }

    @Test func writingIntoTheBaseShowsInNarrowSelectTransposeAndView() {
        let t = base()
        let narrow = t.narrow(dim: 0, start: 1, length: 2)
        let column = t.select(dim: 1, index: 3)
        let transposed = t.t
        let flat = t.view([12])
        let range = t[1..<3]
        t.mul_(10)
        #expect(narrow.toArray(Double.self) == [40, 50, 60, 70, 80, 90, 100, 110])
        #expect(column.toArray(Double.self) == [30, 70, 110])
        #expect(transposed.toArray(Double.self)[0..<3] == [0, 40, 80])
        #expect(flat.toArray(Double.self)[11] == 110)
        #expect(range.equal(narrow))
    }

    @Test func copyIntoAViewWritesTheBase() {
        let t = base()
        t.select(dim: 1, index: 0).copy_(Tensor([7.0, 8, 9]))
        #expect(t.select(dim: 1, index: 0).toArray(Double.self) == [7, 8, 9])
    }

    @Test func cloneAndReshapeOfANonContiguousViewDoNotShare() {
        let t = base()
        let copy = t.clone()
        let reshaped = t.t.reshape([12])
        t.zero_()
        #expect(copy.sum().item() == 66)
        #expect(reshaped.sum().item() == 66, "reshape of a transpose must copy")
    }

    @Test func stridesDescribeTheView() {
        let t = base()
        #expect(t.strides == [4, 1])
        #expect(t.t.strides == [1, 4])
        #expect(!t.t.isContiguous())
        #expect(t.t.contiguous().isContiguous())
        #expect(t.slice(dim: 1, start: 0, end: 4, step: 2).strides == [4, 2])
    }

    @Test func viewOfANonContiguousTensorIsAnError() {
        #expect(throws: TorchError.self) { try withTorchErrors { _ = Tensor.zeros([3, 4]).t.view([12]) } }
    }

    @Test func channelsLastKeepsValuesAndChangesStrides() {
        let t = Tensor.arange(0, 120, dtype: .float32).reshape([2, 3, 4, 5])
        #expect(t.isContiguous() && !t.isContiguous(.channelsLast))
        let nhwc = t.contiguous(.channelsLast)
        #expect(nhwc.isContiguous(.channelsLast))
        #expect(!nhwc.isContiguous())
        #expect(nhwc.shape == [2, 3, 4, 5])
        #expect(nhwc.strides == [60, 1, 15, 3])
        #expect(nhwc.equal(t))
        #expect(nhwc.contiguous().isContiguous())
    }

    @Test func channelsLastSurvivesConvolution() {
        let x = Tensor.randn([1, 3, 5, 5], generator: Generator(seed: 1)).contiguous(.channelsLast)
        let w = Tensor.randn([4, 3, 3, 3], generator: Generator(seed: 2)).contiguous(.channelsLast)
        let y = conv2d(x, weight: w, padding: [1, 1])
        #expect(y.isContiguous(.channelsLast))
        #expect(y.allClose(conv2d(x.contiguous(), weight: w.contiguous(), padding: [1, 1]), rtol: 1e-5, atol: 1e-5))
    }

    @Test func chunkAndSplitAreViews() {
        let t = base()
        let pieces = t.chunk(2, dim: 1)
        #expect(pieces.map(\.shape) == [[3, 2], [3, 2]])
        pieces[1].fill_(0)
        let parts = t.split([1, 2], dim: 0)
        #expect(parts.map(\.shape) == [[1, 4], [2, 4]])
        parts[0].fill_(5)
        #expect(t.toArray(Double.self) == [5, 5, 5, 5, 4, 5, 0, 0, 8, 9, 0, 0])
    }

    @Test func chunkGivesFewerPiecesWhenTheSizeRunsOut() {
        #expect(Tensor.zeros([5]).chunk(4).map(\.shape) == [[2], [2], [1]])
    }
}
