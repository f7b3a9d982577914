import Foundation
import Torch

/// Fixtures written once with PyTorch by `Tests/Fixtures/nn/make_fixtures.py`.
enum NNFixture {
    /// The parsed JSON of `Tests/Fixtures/nn/<name>.json`.
    static func load(_ name: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/nn/\(name).json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let dictionary = object as? [String: Any] else { throw FixtureError(what: "\(name).json is not an object") }
        return dictionary
    }

    /// A float32 tensor from `{"shape": [...], "data": [...]}`.
    static func tensor(_ value: Any?) throws -> Tensor {
        guard let object = value as? [String: Any], let shape = object["shape"] as? [Int],
              let data = object["data"] as? [Double] else { throw FixtureError(what: "not a tensor: \(String(describing: value))") }
        return Tensor(data.map(Float.init), shape: shape)
    }

    /// A state dict: names to tensors.
    static func state(_ value: Any?) throws -> [String: Tensor] {
        guard let object = value as? [String: Any] else { throw FixtureError(what: "not a state dict") }
        return try object.mapValues(tensor)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var what: String
    var description: String { "fixture: \(what)" }
}

extension [String: Any] {
    /// The nested object under `key`.
    func object(_ key: String) throws -> [String: Any] {
        guard let value = self[key] as? [String: Any] else { throw FixtureError(what: "no object \(key)") }
        return value
    }
}

/// `torch.allclose` with test tolerances, and the largest difference when it fails.
func close(_ a: Tensor, _ b: Tensor, atol: Double = 1e-5, rtol: Double = 1e-4) -> Bool {
    guard a.shape == b.shape else { return false }
    return a.to(.float64).allClose(b.to(.float64), rtol: rtol, atol: atol)
}
