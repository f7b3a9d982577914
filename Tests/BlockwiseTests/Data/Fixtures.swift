import Foundation

/// The committed fixture files of one topic (`Tests/Fixtures/<topic>`).
enum Fixtures {
    static func folder(_ topic: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/\(topic)").path
    }

    static func bytes(_ topic: String, _ name: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: folder(topic) + "/" + name)!)
    }

    /// A JSON object of the fixture folder.
    static func json(_ topic: String, _ name: String) -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(bytes(topic, name))) as! [String: Any]
    }

    static func numbers(_ object: [String: Any], _ key: String) -> [Double] {
        (object[key] as! [NSNumber]).map(\.doubleValue)
    }
}
