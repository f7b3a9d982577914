/// The tensors and metadata of one safetensors file.
public struct SafeTensorsFile: Sendable {
    /// The tensor names, in the order of their data in the file.
    public let names: [String]
    /// The tensors by name, each a CPU tensor holding its own copy of the data.
    public let tensors: [String: Tensor]
    /// The `__metadata__` strings (empty when the file has none).
    public let metadata: [String: String]

    public init(names: [String], tensors: [String: Tensor], metadata: [String: String]) {
        self.names = names
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor named `name`, if the file has one.
    public subscript(name: String) -> Tensor? { tensors[name] }

    /// The (name, tensor) pairs in file order.
    public var orderedTensors: [(String, Tensor)] { names.map { ($0, tensors[$0]!) } }
}
