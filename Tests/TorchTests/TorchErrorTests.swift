import Testing
import Torch

/// Inside `withTorchErrors` a libtorch failure becomes a thrown `TorchError` with libtorch's text.
@Suite struct TorchErrorTests {
    static let badMatmulMessage = "mat1 and mat2 shapes cannot be multiplied (3x4 and 3x4)"

    @Test func shapeErrorMessageReachesSwiftIntact() throws {
        let error = try #require(throws: TorchError.self) {
            try withTorchErrors { _ = Tensor.ones([3, 4]).matmul(Tensor.ones([3, 4])) }
        }
        #expect(error.message.contains(Self.badMatmulMessage))
        // what_without_backtrace: the C++ stack stays out of the message.
        #expect(!error.message.contains("Exception raised from"))
        #expect(error.description == error.message)
    }

    @Test func laterOperationsInTheScopeRunWithoutCrashingAndTheFirstErrorIsThrown() throws {
        var sum: [Double] = []
        var undefinedShape: [Int] = [-1]
        let error = try #require(throws: TorchError.self) {
            try withTorchErrors {
                let bad = Tensor.ones([3, 4]).matmul(Tensor.ones([3, 4]))
                let worse = (bad + 1).exp().sum()
                undefinedShape = worse.shape
                _ = worse.item()
                _ = bad.toArray(Float.self)
                sum = (Tensor([1.0, 2]) + Tensor([3.0, 4])).toArray(Double.self)
            }
        }
        #expect(error.message.contains(Self.badMatmulMessage))
        #expect(sum == [4, 6], "operations on defined tensors still compute")
        #expect(undefinedShape == [], "a failed operation's result reads as empty")
    }

    @Test func aScopeWithoutErrorsReturnsItsValue() throws {
        let value = try withTorchErrors { Tensor([2.0, 3]).sum().item() }
        #expect(value == 5)
    }

    @Test func aSwiftErrorThrownInsideTheScopePassesThrough() {
        struct Marker: Error {}
        #expect(throws: Marker.self) { try withTorchErrors { throw Marker() } }
        // The scope is closed: a following scope starts clean.
        #expect(throws: Never.self) { try withTorchErrors { _ = Tensor.ones([2]) + 1 } }
    }

    @Test func anInnerScopeCatchesItsOwnErrorAndTheOuterScopeCompletes() throws {
        var innerMessage = ""
        let result = try withTorchErrors { () -> Double in
            do {
                try withTorchErrors { _ = Tensor.ones([3, 4]).mm(Tensor.ones([3, 4])) }
            } catch let error as TorchError {
                innerMessage = error.message
            }
            return Tensor([1.0, 2]).sum().item()
        }
        #expect(innerMessage.contains(Self.badMatmulMessage))
        #expect(result == 3)
    }

    @Test func anErrorBeforeAnInnerScopeStaysWithTheOuterScope() throws {
        var innerThrew = false
        let error = try #require(throws: TorchError.self) {
            try withTorchErrors {
                _ = Tensor.ones([3, 4]).mm(Tensor.ones([3, 4]))
                do {
                    try withTorchErrors { _ = Tensor.ones([2]) + 1 }
                } catch {
                    innerThrew = true
                }
            }
        }
        #expect(!innerThrew, "the inner scope had no error of its own")
        #expect(error.message.contains(Self.badMatmulMessage))
    }

    @Test func anUncaughtInnerErrorPropagatesThroughTheOuterScope() {
        let error = #expect(throws: TorchError.self) {
            try withTorchErrors {
                try withTorchErrors { _ = Tensor.ones([2, 3]).view([4]) }
            }
        }
        #expect(error?.message.contains("shape '[4]' is invalid for input of size 6") == true)
    }

    @Test func errorsOnSeparateThreadsStayApart() async throws {
        // The trap state is per thread: a failing scope on one task does not leak into another.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    do {
                        try withTorchErrors {
                            if i.isMultiple(of: 2) { _ = Tensor.ones([3, 4]).mm(Tensor.ones([3, 4])) }
                            else { _ = Tensor.ones([3, 4]).mm(Tensor.ones([4, 3])) }
                        }
                        return !i.isMultiple(of: 2)
                    } catch {
                        return i.isMultiple(of: 2)
                    }
                }
            }
            for try await behavedAsExpected in group { #expect(behavedAsExpected) }
        }
    }
}
