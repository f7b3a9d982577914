import Testing
import Torch

@Suite(.serialized) struct SynchronizedBatchNormTests {
    /// One batch norm over a whole batch, and the same split over two ranks: outputs, input
    /// gradients, the summed parameter gradients and the running statistics agree.
    @Test(arguments: [false, true])
    func twoRanksComputeWhatOneBatchNormComputesOnTheWholeBatch(twoDimensional: Bool) throws {
        let shape = twoDimensional ? [8, 5] : [8, 3, 4, 4]
        let x = Tensor.randn(shape, dtype: .float64, generator: Generator(seed: 1)) * 3 + 1
        let r = Tensor.randn(shape, dtype: .float64, generator: Generator(seed: 2))
        let channels = shape[1]
        @Sendable func layer() -> BatchNorm {
            let bn: BatchNorm = twoDimensional ? BatchNorm1d(channels, dtype: .float64) : BatchNorm2d(channels, dtype: .float64)
            withNoGrad {
                bn.weight!.copy_(Tensor.randn([channels], dtype: .float64, generator: Generator(seed: 3)))
                bn.bias!.copy_(Tensor.randn([channels], dtype: .float64, generator: Generator(seed: 4)))
            }
            return bn
        }
        let reference = layer()
        let input = x.clone().requiresGrad_()
        let output = reference(input)
        (output * r).sum().backward()

        let ranks = try onRanks(2) { group -> [Tensor] in
            let bn = layer()
            bn.processGroup = group
            let rows = x.narrow(dim: 0, start: group.rank * 4, length: 4)
            let local = rows.clone().requiresGrad_()
            let y = bn(local)
            (y * r.narrow(dim: 0, start: group.rank * 4, length: 4)).sum().backward()
            return [y.detach(), local.grad!, bn.weight!.grad!, bn.bias!.grad!, bn.runningMean!, bn.runningVar!]
        }
        #expect(Tensor.cat([ranks[0][0], ranks[1][0]], dim: 0).allClose(output.detach(), atol: 1e-12))
        #expect(Tensor.cat([ranks[0][1], ranks[1][1]], dim: 0).allClose(input.grad!, atol: 1e-12))
        #expect((ranks[0][2] + ranks[1][2]).allClose(reference.weight!.grad!, atol: 1e-12))
        #expect((ranks[0][3] + ranks[1][3]).allClose(reference.bias!.grad!, atol: 1e-12))
        for rank in ranks {
            #expect(rank[4].allClose(reference.runningMean!, atol: 1e-12))
            #expect(rank[5].allClose(reference.runningVar!, atol: 1e-12))
        }
    }

    /// Without affine parameters and running statistics, as Barlow Twins standardises embeddings.
    @Test func twoRanksStandardiseAsOneBatchNormWithoutParameters() throws {
        let x = Tensor.randn([8, 5], dtype: .float64, generator: Generator(seed: 5)) * 2 - 1
        let r = Tensor.randn([8, 5], dtype: .float64, generator: Generator(seed: 6))
        let input = x.clone().requiresGrad_()
        let output = batchNorm(input, training: true)
        (output * r).sum().backward()
        let ranks = try onRanks(2) { group -> [Tensor] in
            let local = x.narrow(dim: 0, start: group.rank * 4, length: 4).clone().requiresGrad_()
            let y = synchronizedBatchNorm(local, weight: nil, bias: nil, runningMean: nil, runningVar: nil, momentum: 0,
                                          eps: 1e-5, group: group)
            (y * r.narrow(dim: 0, start: group.rank * 4, length: 4)).sum().backward()
            return [y.detach(), local.grad!]
        }
        #expect(Tensor.cat([ranks[0][0], ranks[1][0]], dim: 0).allClose(output.detach(), atol: 1e-12))
        #expect(Tensor.cat([ranks[0][1], ranks[1][1]], dim: 0).allClose(input.grad!, atol: 1e-12))
    }

    /// A fused CbE head's batch norm synchronised over two ranks (`channelStatistics` feeding
    /// `convBatchNormReLUPool`) computes what the composed conv, batch norm, ReLU and mean
    /// compute on the whole batch in one process: outputs, input gradients, the summed weight
    /// gradients and the running statistics.
    @Test func aFusedHeadOverTwoRanksComputesWhatTheComposedHeadComputesOnTheWholeBatch() throws {
        let g = Generator(seed: 7)
        let x = Tensor.randn([8, 4, 3, 3], dtype: .float64, generator: g) + 0.3
        let upstream = Tensor.randn([8, 6], dtype: .float64, generator: g)
        let convWeight = Tensor.randn([6, 4, 1, 1], dtype: .float64, generator: g)
        let bnWeight = Tensor.rand([6], dtype: .float64, generator: g) + 0.5
        let bnBias = Tensor.randn([6], dtype: .float64, generator: g) * 0.5
        @Sendable func parameters() -> [Tensor] { [convWeight.clone().requiresGrad_(), bnWeight.clone().requiresGrad_(), bnBias.clone().requiresGrad_()] }

        let whole = parameters(), input = x.clone().requiresGrad_()
        let runningMean = Tensor.zeros([6], dtype: .float64), runningVar = Tensor.ones([6], dtype: .float64)
        let y = batchNorm(conv2d(input, weight: whole[0]), weight: whole[1], bias: whole[2], runningMean: runningMean,
                          runningVar: runningVar, training: true, momentum: 0.1, eps: 1e-5).relu().mean(dims: [2, 3])
        (y * upstream).sum().backward()

        let ranks = try onRanks(2) { group -> [Tensor] in
            let own = parameters()
            let rows = { (t: Tensor) in t.narrow(dim: 0, start: group.rank * 4, length: 4) }
            let local = rows(x).clone().requiresGrad_()
            let mean = Tensor.zeros([6], dtype: .float64), variance = Tensor.ones([6], dtype: .float64)
            let z = convBatchNormReLUPool(local, convWeight: own[0], bnWeight: own[1], bnBias: own[2], runningMean: mean,
                                          runningVar: variance, batchStatistics: true, momentum: 0.1, eps: 1e-5, pooling: .mean,
                                          inputStatistics: channelStatistics(local, group: group))
            (z * rows(upstream)).sum().backward()
            return [z.detach(), local.grad!] + own.map { $0.grad! } + [mean, variance]
        }
        #expect(Tensor.cat([ranks[0][0], ranks[1][0]], dim: 0).allClose(y.detach(), atol: 1e-12))
        #expect(Tensor.cat([ranks[0][1], ranks[1][1]], dim: 0).allClose(input.grad!, atol: 1e-12))
        for (k, name) in ["conv weight", "BN weight", "BN bias"].enumerated() {
            #expect((ranks[0][2 + k] + ranks[1][2 + k]).allClose(whole[k].grad!, atol: 1e-12), "\(name) gradient")
        }
        for rank in ranks {
            #expect(rank[5].allClose(runningMean, atol: 1e-12) && rank[6].allClose(runningVar, atol: 1e-12))
        }
    }
}
