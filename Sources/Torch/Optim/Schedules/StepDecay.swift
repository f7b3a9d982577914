import Foundation

/// `base` multiplied by `gamma` at each milestone reached (`MultiStepLR`): from step
/// `milestones[i]` on, the rate is base·gammaⁱ⁺¹.
public struct StepDecay: LearningRateSchedule, Equatable, Codable {
    public var base: Double
    public var milestones: [Int]
    public var gamma: Double

    public init(base: Double, milestones: [Int], gamma: Double = 0.1) {
        self.base = base
        self.milestones = milestones
        self.gamma = gamma
    }

    public func callAsFunction(_ step: Int) -> Double {
        base * Foundation.pow(gamma, Double(milestones.filter { $0 <= step }.count))
    }
}
