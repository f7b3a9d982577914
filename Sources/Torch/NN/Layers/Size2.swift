/// A height and a width: a kernel size, stride, padding or output size of a 2-d layer.
/// Written `3` for 3×3 or `[3, 1]` for 3×1, as PyTorch's `int | tuple[int, int]`.
public struct Size2: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
    CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    /// The same value in both dimensions.
    public init(_ both: Int) { self.init(both, both) }

    public init(integerLiteral value: Int) { self.init(value) }

    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2, "a 2-d size has 2 elements, got \(elements)")
        self.init(elements[0], elements[1])
    }

    /// [height, width], as the functional ops take it.
    public var array: [Int] { [height, width] }

    public var description: String { "(\(height), \(width))" }
}
