import Foundation

/// A file under Tests/Fixtures, found from this source file's place: fixtures are committed
/// beside the tests and the scripts that made them, not bundled as resources.
func fixtureURL(_ relativePath: String) -> URL {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // TorchTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures")
        .appendingPathComponent(relativePath)
}

/// Decodes a JSON fixture, naming the file when it is missing or malformed.
func loadFixture<T: Decodable>(_ type: T.Type, _ relativePath: String) throws -> T {
    let url = fixtureURL(relativePath)
    do {
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    } catch {
        throw FixtureError(message: "cannot read fixture \(url.path) as \(T.self): \(error)")
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
