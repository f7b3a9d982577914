import Testing
import Torch

/// libtorch's imperative autograd through the binding: leaves, accumulation, grad mode, detach.
@Suite struct AutogradTests {
    @Test func backwardFillsTheGradientOfEveryLeafThatRequiresIt() throws {
        let x = Tensor([1.0, 2, 3]).requiresGrad_()
        let w = Tensor([4.0, 5, 6]).requiresGrad_()
        let c = Tensor([1.0, 1, 1])
        (x * x * w + c).sum().backward()
        #expect(try #require(x.grad).toArray(Double.self) == [8, 20, 36])
        #expect(try #require(w.grad).toArray(Double.self) == [1, 4, 9])
        #expect(c.grad == nil)
        #expect(x.isLeaf && !(x * w).isLeaf)
        #expect((x * w).requiresGrad && !c.requiresGrad)
    }

    @Test func backwardWithAnExplicitSeed() throws {
        let x = Tensor([1.0, 2]).requiresGrad_()
        (x * 3).backward(Tensor([1.0, 10]))
        #expect(try #require(x.grad).toArray(Double.self) == [3, 30])
    }

    @Test func gradientsAccumulateUntilResetToNil() throws {
        let x = Tensor([1.0, 2]).requiresGrad_()
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        #expect(try #require(x.grad).toArray(Double.self) == [6, 6])
        x.grad = nil
        #expect(x.grad == nil)
        (x * 3).sum().backward()
        #expect(try #require(x.grad).toArray(Double.self) == [3, 3])
    }

    @Test func gradCanBeSetToATensor() throws {
        let x = Tensor([1.0, 2]).requiresGrad_()
        x.grad = Tensor([0.5, 0.5])
        x.sum().backward()
        #expect(try #require(x.grad).toArray(Double.self) == [1.5, 1.5])
    }

    @Test func gradientsOfWithRespectToLeavesGradUntouched() throws {
        let x = Tensor([1.0, 2, 3]).requiresGrad_()
        let w = Tensor([4.0, 5, 6]).requiresGrad_()
        let grads = gradients(of: [(x * x * w).sum()], withRespectTo: [x, w])
        #expect(try #require(grads[0]).toArray(Double.self) == [8, 20, 36])
        #expect(try #require(grads[1]).toArray(Double.self) == [1, 4, 9])
        #expect(x.grad == nil && w.grad == nil)
    }

    @Test func gradientsOfAnUnusedInputIsNilWhenAllowed() throws {
        let x = Tensor([1.0, 2]).requiresGrad_()
        let unused = Tensor([3.0]).requiresGrad_()
        let grads = gradients(of: [x.exp().sum()], withRespectTo: [x, unused], allowUnused: true)
        #expect(grads[0] != nil && grads[1] == nil)
        #expect(throws: TorchError.self) {
            try withTorchErrors { _ = gradients(of: [x.exp().sum()], withRespectTo: [x, unused]) }
        }
    }

    @Test func gradientsWithSeedsAndOfSeveralOutputs() throws {
        let x = Tensor([1.0, 2]).requiresGrad_()
        // A nil seed stands for ones only for a scalar output, as in torch.autograd.grad.
        let error = try #require(throws: TorchError.self) {
            try withTorchErrors {
                _ = gradients(of: [x * 2, x * x], withRespectTo: [x], gradOutputs: [Tensor([1.0, 0]), nil])
            }
        }
        #expect(error.message.contains("grad can be implicitly created only for scalar outputs"))
        let seeded = gradients(of: [x * 2, x * x], withRespectTo: [x], gradOutputs: [Tensor([1.0, 0]), Tensor([1.0, 1])])
        #expect(try #require(seeded[0]).toArray(Double.self) == [4, 4])
    }

    @Test func createGraphGivesSecondDerivatives() throws {
        let x = Tensor([2.0, 3]).requiresGrad_()
        let first = try #require(gradients(of: [x.pow(3).sum()], withRespectTo: [x], createGraph: true)[0])
        #expect(first.toArray(Double.self) == [12, 27])
        let second = try #require(gradients(of: [first.sum()], withRespectTo: [x])[0])
        #expect(second.toArray(Double.self) == [12, 18])
    }

    @Test func retainGraphAllowsASecondBackward() throws {
        let x = Tensor([1.0, 2]).requiresGrad_()
        let y = x.exp().sum()
        y.backward(retainGraph: true)
        y.backward()
        #expect(try #require(x.grad).allClose(x.detach().exp() * 2))
    }

    @Test func aSecondBackwardWithoutRetainingTheGraphIsAnError() {
        let x = Tensor([1.0, 2]).requiresGrad_()
        let y = x.exp().sum()
        y.backward()
        #expect(throws: TorchError.self) { try withTorchErrors { y.backward() } }
    }

    @Test func withNoGradRecordsNothingAndRestoresTheMode() {
        let x = Tensor([1.0]).requiresGrad_()
        #expect(isGradEnabled)
        let y = withNoGrad {
            #expect(!isGradEnabled)
            return x * 2
        }
        #expect(!y.requiresGrad)
        #expect(isGradEnabled)
        struct Marker: Error {}
        #expect(throws: Marker.self) { try withNoGrad { throw Marker() } }
        #expect(isGradEnabled, "restored after a throw")
    }

    @Test func withGradModeNestsInsideNoGrad() {
        let x = Tensor([1.0]).requiresGrad_()
        let y = withNoGrad { withGradMode(true) { x * 2 } }
        #expect(y.requiresGrad)
        #expect(isGradEnabled)
    }

    @Test func detachStopsTheGradientAndSharesStorage() throws {
        let x = Tensor([1.0, 2, 3]).requiresGrad_()
        let d = x.detach()
        #expect(!d.requiresGrad)
        (d * x).sum().backward()
        #expect(try #require(x.grad).toArray(Double.self) == [1, 2, 3], "only the attached factor is differentiated")
        withNoGrad { _ = d.fill_(0) }
        #expect(x.detach().toArray(Double.self) == [0, 0, 0])
    }

    @Test func requiresGradCanBeSwitchedOff() {
        let x = Tensor([1.0]).requiresGrad_()
        x.requiresGrad = false
        #expect(!(x * 2).requiresGrad)
    }

    @Test func gradientOfAFloat32GraphIsFloat32() throws {
        let x = Tensor([1, 2] as [Float]).requiresGrad_()
        (x * x).sum().backward()
        let grad = try #require(x.grad)
        #expect(grad.dtype == .float32)
        #expect(grad.toArray(Float.self) == [2, 4])
    }
}
