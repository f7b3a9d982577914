extension Module {
    /// Every persistent tensor of the tree, in PyTorch's `state_dict()` order: for each
    /// module depth first, its parameters then its buffers. The tensors share storage
    /// with the module's (detached), as in PyTorch.
    public func orderedStateDict() -> [(name: String, tensor: Tensor)] {
        stateEntries().map { ($0.name, $0.tensor.detach()) }
    }

    /// The module's persistent state by name: what a checkpoint stores.
    public func stateDict() -> [String: Tensor] {
        Dictionary(orderedStateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    }

    /// The live tensors behind the state dict. Unlike `namedParameters()` a tensor shared
    /// by two modules appears under both names, as in PyTorch.
    func stateEntries() -> [(name: String, tensor: Tensor)] {
        var entries: [(name: String, tensor: Tensor)] = []
        func visit(_ module: Module, _ prefix: String) {
            for (name, tensor) in module.ownParameters() { entries.append((join(prefix, name), tensor)) }
            for (name, tensor, persistent) in module.ownBuffers() where persistent {
                entries.append((join(prefix, name), tensor))
            }
            for child in module.namedChildren() { visit(child.module, join(prefix, child.name)) }
        }
        visit(self, "")
        return entries
    }

    /// Copies the values of `stateDict` into the module's tensors, in place and without
    /// recording gradients, so that optimizers keep their references. Values are converted
    /// to each tensor's dtype and device.
    ///
    /// Nothing is copied when a shape differs, nor, when `strict`, when a key is missing
    /// or unexpected: the error lists every such key. Without `strict` the keys that did
    /// not match are returned.
    @discardableResult
    public func load(stateDict: [String: Tensor], strict: Bool = true) throws -> StateDictKeys {
        let entries = stateEntries()
        let own = Set(entries.map(\.name))
        let missing = entries.map(\.name).filter { stateDict[$0] == nil }
        let unexpected = stateDict.keys.filter { !own.contains($0) }.sorted()
        let mismatched = entries.compactMap { name, tensor -> StateDictError.ShapeMismatch? in
            guard let given = stateDict[name], given.shape != tensor.shape else { return nil }
            return .init(key: name, expected: tensor.shape, found: given.shape)
        }
        if !mismatched.isEmpty || (strict && !(missing.isEmpty && unexpected.isEmpty)) {
            throw StateDictError(missing: missing, unexpected: unexpected, mismatched: mismatched)
        }
        try withNoGrad {
            for (name, tensor) in entries {
                guard let value = stateDict[name] else { continue }
                do {
                    _ = try withTorchErrors { tensor.copy_(value) }
                } catch let error as TorchError {
                    throw TorchError(message: "loading state dict key \(name): \(error.message)")
                }
            }
        }
        return StateDictKeys(missing: missing, unexpected: unexpected)
    }
}

/// Keys of a state dict that did not match a module, reported by a non-strict load.
public struct StateDictKeys: Equatable, Sendable {
    /// The module's keys the state dict lacks.
    public var missing: [String]
    /// The state dict's keys the module lacks.
    public var unexpected: [String]
}

/// A state dict that does not fit a module, with every offending key.
public struct StateDictError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A key present on both sides with different shapes.
    public struct ShapeMismatch: Equatable, Sendable {
        public var key: String
        public var expected: [Int]
        public var found: [Int]

        public init(key: String, expected: [Int], found: [Int]) {
            self.key = key
            self.expected = expected
            self.found = found
        }
    }

    public var missing: [String]
    public var unexpected: [String]
    public var mismatched: [ShapeMismatch]

    public var description: String {
        var lines = ["state dict does not match the module:"]
        if !missing.isEmpty { lines.append("  missing keys: " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { lines.append("  unexpected keys: " + unexpected.joined(separator: ", ")) }
        for m in mismatched {
            lines.append("  size mismatch for \(m.key): expected shape \(m.expected), found \(m.found)")
        }
        return lines.joined(separator: "\n")
    }
}
