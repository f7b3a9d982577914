import Testing
import Torch

/// Autograd's gradients through views, joins, splits and indexing agree with finite differences.
@Suite struct ShapeGradientTests {
    static let cases: [GradientCase] = [
        GradientCase("reshape", [[2, 3, 4]]) { $0[0].reshape([4, -1]) },
        GradientCase("view", [[2, 3, 4]]) { $0[0].view([6, 4]) },
        GradientCase("permute", [[2, 3, 4]]) { $0[0].permute([2, 0, 1]) },
        GradientCase("transpose", [[2, 3, 4]]) { $0[0].transpose(0, 2) },
        GradientCase("matrix transpose", [[2, 3]]) { $0[0].t },
        GradientCase("flatten", [[2, 3, 4]]) { $0[0].flatten(start: 1) },
        GradientCase("squeeze every size-1 dimension", [[2, 1, 3, 1]]) { $0[0].squeeze() },
        GradientCase("squeeze one dimension", [[2, 1, 3]]) { $0[0].squeeze(dim: 1) },
        GradientCase("unsqueeze", [[2, 3]]) { $0[0].unsqueeze(1) },
        GradientCase("expand", [[3, 1]]) { $0[0].expand([2, 3, 4]) },
        GradientCase("repeat", [[2, 3]]) { $0[0].repeat([2, 1, 2]) },
        GradientCase("cat", [[2, 3], [2, 2]]) { Tensor.cat([$0[0], $0[1]], dim: 1) },
        GradientCase("stack", [[2, 3], [2, 3]]) { Tensor.stack([$0[0], $0[1]], dim: 1) },
        GradientCase("chunk", [[2, 6]]) { x in
            let pieces = x[0].chunk(3, dim: 1)
            return Tensor.cat([pieces[2], pieces[0] * 2, pieces[1].exp()], dim: 1)
        },
        GradientCase("split", [[3, 4]]) { x in
            let pieces = x[0].split([1, 2], dim: 0)
            return pieces[1] * pieces[0]
        },
        GradientCase("narrow", [[2, 3, 4]]) { $0[0].narrow(dim: 2, start: 1, length: 2) },
        GradientCase("slice with a step", [[2, 3, 5]]) { $0[0].slice(dim: 2, start: 0, end: 5, step: 2) },
        GradientCase("select", [[2, 3, 4]]) { $0[0].select(dim: 1, index: 2) },
        GradientCase("subscript by index and range", [[3, 4]]) { $0[0][1] + $0[0][0..<2].sum(dim: 0) },
        GradientCase("indexSelect with a repeated index", [[2, 4]]) { x in
            x[0].indexSelect(dim: 1, index: Tensor([3, 0, 3] as [Int]))
        },
        GradientCase("gather", [[2, 3]]) { x in
            x[0].gather(dim: 1, index: Tensor([2, 0, 2, 1, 1, 0] as [Int], shape: [2, 3]))
        },
        GradientCase("scatterAdd, in self and source", [[2, 3], [2, 2]]) { x in
            x[0].scatterAdd(dim: 1, index: Tensor([0, 0, 2, 1] as [Int], shape: [2, 2]), source: x[1])
        },
        GradientCase("maskedSelect", [[2, 3]]) { x in
            x[0].maskedSelect(Tensor([true, false, true, true, false, false], shape: [2, 3]))
        },
        GradientCase("flip", [[2, 3]]) { $0[0].flip([0, 1]) },
        GradientCase("roll", [[2, 3]]) { $0[0].roll([1], dims: [1]) },
        GradientCase("diagonal", [[3, 3]]) { $0[0].diagonal(offset: 1) },
        GradientCase("diagEmbed", [[2, 3]]) { $0[0].diagEmbed() },
        GradientCase("tril", [[3, 3]]) { $0[0].tril() },
        GradientCase("triu", [[3, 3]]) { $0[0].triu(1) },
        GradientCase("constant pad", [[1, 1, 2, 3]]) { pad($0[0], [1, 2, 0, 1], value: 0.5) },
        GradientCase("reflect pad", [[1, 1, 3, 3]]) { pad($0[0], [1, 1, 2, 0], mode: .reflect) },
        GradientCase("replicate pad", [[1, 1, 2, 3]]) { pad($0[0], [2, 0, 1, 1], mode: .replicate) },
        GradientCase("clone and contiguous", [[2, 3]]) { $0[0].t.contiguous().clone() },
    ]

    @Test("gradient matches finite differences", arguments: cases)
    func gradientMatchesFiniteDifferences(_ c: GradientCase) {
        c.expectGradientsMatch()
    }
}
