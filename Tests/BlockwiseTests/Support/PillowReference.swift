import Foundation
import Testing

/// Debian's python3 with torchvision, Pillow and scikit-learn (`make test` installs them):
/// what the image tests compare with (Tests/Fixtures/data/pillow_reference.py) and where
/// their photos come from (scripts/make-image-folder).
enum PillowReference {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Runs the reference script; its output, or a failed requirement with what went wrong.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        try runPython([repository + "/Tests/Fixtures/data/pillow_reference.py"] + arguments)
    }

    /// A folder of `count` photos of 500×375 and 375×500 in `classes` class folders.
    static func makeImageFolder(_ path: String, count: Int, classes: Int = 2, seed: Int = 0) throws {
        try runPython([repository + "/scripts/make-image-folder", path, "--count", "\(count)", "--classes", "\(classes)",
                       "--seed", "\(seed)"])
    }

    static func runPython(_ arguments: [String]) throws -> String {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
                     "no /usr/bin/python3, which this test needs: run `make test`, which installs python3-torchvision")
        let (status, output) = try runToEnd("/usr/bin/python3", arguments)
        try #require(status == 0, """
            /usr/bin/python3 \(arguments.joined(separator: " ")) failed; `make test` installs python3-torchvision \
            and python3-sklearn, which it needs: \(output)
            """)
        return output
    }

    /// The bytes of a file the script wrote.
    static func bytes(_ path: String) throws -> [UInt8] {
        try #require(FileManager.default.contents(atPath: path).map { [UInt8]($0) })
    }
}
