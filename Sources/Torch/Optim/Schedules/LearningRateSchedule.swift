/// A learning rate (or a factor of one) as a pure function of the iteration, so that a
/// resumed run needs to remember only the iteration. Stepped once per iteration.
public protocol LearningRateSchedule: Sendable {
    func callAsFunction(_ step: Int) -> Double
}
