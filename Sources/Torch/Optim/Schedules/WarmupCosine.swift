import Foundation

/// Linear warm-up from 0 to `base`, then cosine decay to `floorFactor`·base at
/// `totalSteps`, as the Barlow Twins reference's `adjust_learning_rate`:
///
///     step < W:  base · step / W
///     else:      q = ½(1 + cos(π·k/K)),  k = step − W,  K = total − W
///                base·q + floorFactor·base·(1 − q)
///
/// The reference warms up for 10 epochs with base = batch size / 256 and scales it by
/// each group's rate (0.2 for weights, 0.0048 for biases). Steps past the end keep the floor.
public struct WarmupCosine: LearningRateSchedule, Equatable, Codable {
    public var base: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var floorFactor: Double

    public init(base: Double, warmupSteps: Int, totalSteps: Int, floorFactor: Double = 0.001) {
        precondition(warmupSteps >= 0 && totalSteps > warmupSteps,
                     "WarmupCosine: need 0 <= warmupSteps (\(warmupSteps)) < totalSteps (\(totalSteps))")
        self.base = base
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.floorFactor = floorFactor
    }

    public func callAsFunction(_ step: Int) -> Double {
        if step < warmupSteps { return base * Double(step) / Double(warmupSteps) }
        let k = Double(min(step, totalSteps) - warmupSteps)
        let q = 0.5 * (1 + Foundation.cos(Double.pi * k / Double(totalSteps - warmupSteps)))
        return base * q + base * floorFactor * (1 - q)
    }
}
