/// The same value at every step.
public struct Constant: LearningRateSchedule, Equatable, Codable {
    public var value: Double

    public init(_ value: Double) { self.value = value }

    public func callAsFunction(_ step: Int) -> Double { value }
}
