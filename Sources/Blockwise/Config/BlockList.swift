/// Block numbers as a user writes them, in configurations and on the command line alike:
/// `1,2,4`, `[1, 2, 4]` or a YAML list; each a number from 1, none twice.
public enum BlockList {
    /// Parses `text`; the error says what was expected.
    public static func parse(_ text: String) throws -> [Int] {
        try parse(ConfigInput.scalar(text).items)
    }

    static func parse(_ items: [String]) throws -> [Int] {
        let blocks = items.map { Int($0) }
        guard !blocks.isEmpty, blocks.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw BlockListError("expected block numbers from 1 separated by commas, e.g. 1,2,3,4, got \"\(items.joined(separator: ","))\"")
        }
        let numbers = blocks.map { $0! }
        guard Set(numbers).count == numbers.count else {
            throw BlockListError("block list \(numbers.map(String.init).joined(separator: ",")) names a block twice")
        }
        return numbers
    }

    /// The list as YAML writes it.
    static func text(_ blocks: [Int]) -> String {
        "[" + blocks.map(String.init).joined(separator: ", ") + "]"
    }
}

/// A block list that cannot be read.
public struct BlockListError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
