import Torch

/// Standard normal float64 samples from a fixed seed: tests see the same numbers every run.
func randomDoubles(_ shape: [Int], seed: UInt64 = 0) -> Tensor {
    Tensor.randn(shape, dtype: .float64, generator: Generator(seed: seed))
}

/// Uniform float64 samples in [low, high) from a fixed seed.
func uniformDoubles(_ shape: [Int], _ low: Double, _ high: Double, seed: UInt64 = 0) -> Tensor {
    Tensor.rand(shape, dtype: .float64, generator: Generator(seed: seed)) * (high - low) + low
}
