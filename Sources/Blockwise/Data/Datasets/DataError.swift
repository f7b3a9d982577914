/// A problem with data on disk or with a dataset request: names the file (or spec) and what
/// was wrong, so the user can act on it.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file, folder or spec concerned.
    public let path: String
    /// What was wrong with it, and what was expected.
    public let problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}
