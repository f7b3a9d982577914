/// The dtype names of the safetensors format and their `DType` counterparts.
enum SafeTensorsDType {
    /// The format's name of each `DType`.
    static func name(of dtype: DType) -> String {
        switch dtype {
        case .float64: return "F64"
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    /// Names the format defines that no `DType` matches (the Rust crate's list, 0.4 – 0.8).
    static let unsupportedNames: Set<String> = [
        "U16", "U32", "U64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64",
    ]

    static let byName: [String: DType] = Dictionary(uniqueKeysWithValues: DType.allCases.map { (name(of: $0), $0) })

    static let supportedNames: String = DType.allCases.map(name(of:)).joined(separator: ", ")

    /// Where the Rust writer (and so Python's `save_file`) puts a dtype: tensors are sorted by
    /// this rank, highest first, then by name. It is the order of the crate's `Dtype` enum,
    /// which follows alignment, so every tensor starts aligned to its element size.
    static func writeRank(_ dtype: DType) -> Int {
        switch dtype {
        case .bool: return 0
        case .uint8: return 1
        case .int8: return 2
        case .int16: return 3
        case .float16: return 4
        case .bfloat16: return 5
        case .int32: return 6
        case .float32: return 7
        case .float64: return 8
        case .int64: return 9
        }
    }
}
