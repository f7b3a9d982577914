/// A piece of a network with parameters, buffers and child modules (`torch.nn.Module`).
///
/// Subclasses declare their state as stored properties and the module finds it by
/// reflection, in declaration order (superclass properties first): `@Parameter` and
/// `@Buffer` properties, child `Module`s, optional children (`Module?`, absent when nil)
/// and arrays of modules (named "0", "1", … under the property name, as `nn.ModuleList`).
/// Dotted names are PyTorch's, so that weights interoperate: a torchvision ResNet's
/// `layer1.0.downsample.1.running_mean` comes from properties `layer1`, `downsample`
/// and `runningMean` (key "running_mean").
open class Module {
    /// Whether the module is in training mode (BatchNorm and Dropout behave differently).
    public private(set) var training = true

    public init() {}

    // MARK: Structure

    /// The direct children and their names. Containers whose children carry no property
    /// name of their own (`Sequential`) override this.
    open func namedChildren() -> [(name: String, module: Module)] {
        var children: [(name: String, module: Module)] = []
        for (label, value) in reflectedProperties() where !(value is any ReflectedTensor) {
            if let module = value as? Module {
                children.append((label, module))
            } else if let modules = value as? [Module] {
                for (index, module) in modules.enumerated() { children.append(("\(label).\(index)", module)) }
            }
        }
        return children
    }

    /// This module's own parameters (not its children's), absent optional ones left out.
    func ownParameters() -> [(name: String, tensor: Tensor)] {
        reflectedProperties().compactMap { label, value in
            guard let parameter = value as? any ReflectedParameter, let tensor = parameter.tensor else { return nil }
            return (parameter.key ?? wrapperName(label), tensor)
        }
    }

    /// This module's own buffers, with whether each belongs in the state dict.
    func ownBuffers() -> [(name: String, tensor: Tensor, persistent: Bool)] {
        reflectedProperties().compactMap { label, value in
            guard let buffer = value as? any ReflectedBuffer, let tensor = buffer.tensor else { return nil }
            return (buffer.key ?? wrapperName(label), tensor, buffer.persistent)
        }
    }

    /// Stored properties of every class between `Module` (excluded) and the dynamic type,
    /// superclass first: the order in which PyTorch modules register their state.
    private func reflectedProperties() -> [(label: String, value: Any)] {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let current = mirror, ObjectIdentifier(current.subjectType) != ObjectIdentifier(Module.self) {
            mirrors.append(current)
            mirror = current.superclassMirror
        }
        return mirrors.reversed().flatMap { mirror in
            mirror.children.compactMap { child in child.label.map { ($0, child.value) } }
        }
    }

    /// A property wrapper's storage is labelled `_name`.
    private func wrapperName(_ label: String) -> String {
        label.hasPrefix("_") ? String(label.dropFirst()) : label
    }

    /// Every module of the tree, this one first (named ""), depth first, each once.
    public func namedModules() -> [(name: String, module: Module)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(name: String, module: Module)] = []
        func visit(_ module: Module, _ name: String) {
            guard seen.insert(ObjectIdentifier(module)).inserted else { return }
            result.append((name, module))
            for child in module.namedChildren() { visit(child.module, join(name, child.name)) }
        }
        visit(self, "")
        return result
    }

    /// Every module of the tree, this one first.
    public func modules() -> [Module] { namedModules().map(\.module) }

    /// Every parameter of the tree with its dotted name, each tensor once.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        return namedModules().flatMap { prefix, module in
            module.ownParameters().compactMap { name, tensor in
                seen.insert(ObjectIdentifier(tensor)).inserted ? (join(prefix, name), tensor) : nil
            }
        }
    }

    /// Every parameter of the tree, each once: what an optimizer is given.
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Every buffer of the tree with its dotted name, each tensor once.
    public func namedBuffers() -> [(name: String, tensor: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        return namedModules().flatMap { prefix, module in
            module.ownBuffers().compactMap { name, tensor, _ in
                seen.insert(ObjectIdentifier(tensor)).inserted ? (join(prefix, name), tensor) : nil
            }
        }
    }

    public func buffers() -> [Tensor] { namedBuffers().map(\.tensor) }

    // MARK: Modes

    /// Sets training mode on this module and every descendant (`module.train(mode)`).
    open func train(_ mode: Bool = true) {
        for module in modules() { module.training = mode }
    }

    /// Evaluation mode: running statistics in BatchNorm, no dropout.
    public func eval() { train(false) }

    /// Stops gradients for every parameter (`requires_grad_(False)`).
    public func freeze() {
        for parameter in parameters() { parameter.requiresGrad = false }
    }

    /// Lets every parameter be learned again.
    public func unfreeze() {
        for parameter in parameters() where parameter.dtype.isFloatingPoint { parameter.requiresGrad = true }
    }

    // MARK: Counts

    /// The number of scalars in all parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// The number of scalars in parameters that require gradients.
    public var trainableParameterCount: Int {
        parameters().filter(\.requiresGrad).reduce(0) { $0 + $1.count }
    }
}

/// A module that maps one tensor to one tensor: what `Sequential` chains.
public protocol UnaryLayer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// Joins a prefix and a name with a dot, as PyTorch's dotted names.
func join(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : prefix + "." + name
}
