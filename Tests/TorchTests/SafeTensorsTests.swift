import Foundation
import Testing
import Torch

/// The safetensors reader and writer, checked against files written by Python's
/// `safetensors.torch.save_file` (Tests/Fixtures/safetensors/make_fixtures.py).
@Suite("SafeTensors")
struct SafeTensorsTests {
    typealias Fixtures = SafeTensorsFixtures

    /// python_values.json: per file, the metadata and each tensor's dtype, shape and values.
    static func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.url("python_values.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Checks every tensor and the metadata of a Python-written fixture against the values
    /// Python recorded, bit for bit (NaN as NaN, -0 as -0).
    func expectMatchesPython(_ fileName: String) throws {
        let file = try SafeTensors.read(contentsOf: Fixtures.url(fileName))
        let description = try #require(try Self.expected()[fileName] as? [String: Any])
        let tensors = try #require(description["tensors"] as? [String: [String: Any]])
        #expect(file.metadata == description["metadata"] as? [String: String])
        #expect(Set(file.names) == Set(tensors.keys))
        for (name, info) in tensors {
            let tensor = try #require(file[name], "\(name) missing")
            let dtype = DType.allCases.first { $0.description == info["dtype"] as? String }
            #expect(tensor.dtype == dtype, "\(name)")
            #expect(tensor.shape == info["shape"] as? [Int], "\(name)")
            let values = try #require(info["values"] as? [Any])
            switch tensor.dtype {
            case .bool:
                #expect(tensor.toArray(Bool.self) == values.map { ($0 as! NSNumber).boolValue }, "\(name)")
            case let t where t.isFloatingPoint:
                let actual = tensor.toArray(Double.self)
                let wanted = values.map(Self.double)
                #expect(actual.count == wanted.count, "\(name)")
                for (a, w) in zip(actual, wanted) {
                    #expect(a.bitPattern == w.bitPattern || (a.isNaN && w.isNaN), "\(name): \(a) != \(w)")
                }
            default:
                #expect(tensor.toArray(Int64.self) == values.map { ($0 as! NSNumber).int64Value }, "\(name)")
            }
        }
    }

    /// make_fixtures.py writes floats as exact hex strings (JSON has no NaN, infinity or -0).
    static func double(_ value: Any) -> Double {
        Double(value as! String)!
    }

    @Test func readsEveryDTypeAScalarAndEmptyTensorsWrittenByPython() throws {
        try expectMatchesPython("python.safetensors")
    }

    @Test func readsSeveralMetadataKeysAndEscapedNamesWrittenByPython() throws {
        try expectMatchesPython("python_metadata.safetensors")
    }

    @Test func namesFollowTheOrderOfTheDataInTheFile() throws {
        let file = try SafeTensors.read(contentsOf: Fixtures.url("python.safetensors"))
        // Python writes the header in data order: each name's first quoted appearance gives it.
        let header = String(decoding: try Fixtures.bytes("python.safetensors").dropFirst(8), as: UTF8.self)
        let positions = file.names.map { header.range(of: "\"\($0)\":{\"dtype\"")!.lowerBound }
        #expect(positions == positions.sorted())
        #expect(file.orderedTensors.map(\.0) == file.names)
    }

    @Test func writesTheSameBytesAsPythonForTheSameTensors() throws {
        let python = try Fixtures.bytes("python.safetensors")
        let file = try SafeTensors.read(bytes: python)
        // Given in reverse, so that only the writer's own ordering can match Python's.
        let ours = try SafeTensors.encode(file.orderedTensors.reversed(), metadata: file.metadata)
        #expect(ours == python)
    }

    @Test func writesAHeaderPythonReadsAlikeWhenMetadataHasSeveralKeys() throws {
        // The Rust crate writes several metadata keys in hash order, so compare the JSON, not bytes.
        let python = try Fixtures.bytes("python_metadata.safetensors")
        let file = try SafeTensors.read(bytes: python)
        let ours = try SafeTensors.encode(file.orderedTensors, metadata: file.metadata)
        #expect(ours.count == python.count)
        #expect(ours.prefix(8) == python.prefix(8))
        let size = Int(python[0]) | Int(python[1]) << 8
        func json(_ bytes: [UInt8]) throws -> NSDictionary {
            try JSONSerialization.jsonObject(with: Data(bytes[8..<8 + size])) as! NSDictionary
        }
        #expect(try json(ours) == json(python))
        #expect(ours[(8 + size)...] == python[(8 + size)...])
    }

    @Test func roundTripsEveryDTypeThroughAFile() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let generator = Generator(seed: 7)
        var tensors: [(String, Tensor)] = DType.allCases.map { dtype in
            let values = Tensor.randn([3, 4], dtype: .float64, generator: generator) * 50
            return ("\(dtype)", dtype == .bool ? values .> 0.0 : values.to(dtype))
        }
        tensors.append(("scalar", Tensor(3.25, dtype: .bfloat16)))
        tensors.append(("empty", Tensor.zeros([2, 0, 5], dtype: .int16)))
        let path = folder.appendingPathComponent("all.safetensors").path
        try SafeTensors.write(tensors, metadata: ["step": "12", "note": "ünïcode"], to: path)

        let file = try SafeTensors.read(contentsOf: path)
        #expect(file.metadata == ["step": "12", "note": "ünïcode"])
        #expect(Set(file.names) == Set(tensors.map(\.0)))
        for (name, tensor) in tensors {
            let read = try #require(file[name])
            #expect(read.dtype == tensor.dtype && read.shape == tensor.shape, "\(name)")
            #expect(read.bytes() == tensor.bytes(), "\(name)")
        }
    }

    @Test func writesViewsAndTensorsThatRequireGradientsAsTheirValues() throws {
        let base = Tensor.arange(0, 12, dtype: .float32).reshape([3, 4])
        let view = base.transpose(0, 1)
        let trained = Tensor.ones([2], dtype: .float32).requiresGrad_()
        let file = try SafeTensors.read(bytes: try SafeTensors.encode([("view", view), ("trained", trained)]))
        #expect(file["view"]!.shape == [4, 3])
        #expect(file["view"]!.equal(view.contiguous()))
        #expect(file["trained"]!.equal(Tensor.ones([2], dtype: .float32)))
        #expect(!file["trained"]!.requiresGrad)
    }

    @Test func writesADictionaryOfTensorsWithoutMetadata() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("dict.safetensors")
        try SafeTensors.write(["b": Tensor([1, 2] as [Int32]), "a": Tensor([true])], to: url)
        let file = try SafeTensors.read(contentsOf: url)
        #expect(file.metadata.isEmpty)
        #expect(file["b"]!.toArray(Int32.self) == [1, 2])
        #expect(file["a"]!.toArray(Bool.self) == [true])
        // No metadata given, none written: the header is exactly what Python writes for it.
        #expect(!String(decoding: try Data(contentsOf: url), as: UTF8.self).contains("__metadata__"))
    }

    @Test func aFileWithoutTensorsRoundTrips() throws {
        let bytes = try SafeTensors.encode([], metadata: ["only": "metadata"])
        #expect(bytes.count % 8 == 0)
        let file = try SafeTensors.read(bytes: bytes)
        #expect(file.names.isEmpty && file.metadata == ["only": "metadata"])
    }

    @Test func readsTensorsListedInAnyOrderWithWhitespaceInTheHeader() throws {
        let header = """
            { "b" : {"data_offsets": [4, 6], "shape": [2], "dtype": "U8", "unknown": [1, {"x": null}]},
              "__metadata__": null,
              "a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]} }\t\r\n
            """
        let value: Float = 1.5
        let data = withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } + [7, 9]
        let file = try SafeTensors.read(bytes: Fixtures.file(header: header, data: data))
        #expect(file.names == ["a", "b"])
        #expect(file["a"]!.shape == [] && file["a"]!.item() == 1.5)
        #expect(file["b"]!.toArray(UInt8.self) == [7, 9])
    }

    @Test func replacingAFileLeavesNoTemporaryFileBehind() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("model.safetensors").path
        try SafeTensors.write([("w", Tensor([1, 2, 3] as [Float]))], to: path)
        try SafeTensors.write([("w", Tensor([4, 5] as [Float]))], to: path)
        #expect(try SafeTensors.read(contentsOf: path)["w"]!.toArray(Float.self) == [4, 5])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
    }

    @Test func aFailedWriteKeepsTheOldFile() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("model.safetensors").path
        try SafeTensors.write([("w", Tensor([1, 2, 3] as [Float]))], to: path)
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.write([("w", Tensor([4] as [Float])), ("w", Tensor([5] as [Float]))], to: path)
        }
        #expect(error?.problem.code == "invalidName")
        #expect(error?.description == "\(path): tensor \"w\": the name is given twice")
        #expect(try SafeTensors.read(contentsOf: path)["w"]!.toArray(Float.self) == [1, 2, 3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
    }

    @Test func theMetadataKeyCannotNameATensor() {
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.encode([("__metadata__", Tensor([1] as [Float]))])
        }
        #expect(error?.problem.code == "invalidName")
    }

    @Test func writingIntoAMissingFolderNamesTheFile() {
        let path = "/nonexistent-\(UUID().uuidString)/model.safetensors"
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.write([("w", Tensor([1] as [Float]))], to: path)
        }
        #expect(error?.file == path)
        #expect(error?.problem.code == "io")
    }

    @Test func aSizeMismatchNamesTheFileTheTensorAndTheBytesNeeded() {
        let header = #"{"conv1.weight":{"dtype":"F32","shape":[64,3,7,7],"data_offsets":[0,100]}}"#
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.read(bytes: Fixtures.file(header: header, data: [UInt8](repeating: 0, count: 100)),
                                 name: "model.safetensors")
        }
        #expect(error?.description
            == #"model.safetensors: tensor "conv1.weight": data offsets [0, 100] but shape [64, 3, 7, 7] of F32 needs 37632 bytes"#)
    }

    @Test func aTruncatedFileSaysHowMuchIsMissing() throws {
        let python = try Fixtures.bytes("python.safetensors")
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.read(bytes: Array(python.dropLast(10)), name: "cut.safetensors")
        }
        #expect(error?.problem.code == "offsetsPastEnd")
        #expect(error?.tensor != nil)
        #expect(error?.description.hasPrefix("cut.safetensors: tensor ") == true)
    }

    @Test func aMissingFileIsAnErrorNamingIt() {
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.read(contentsOf: "/nonexistent/weights.safetensors")
        }
        #expect(error?.description.hasPrefix("/nonexistent/weights.safetensors: cannot open: ") == true)
    }

    @Test func aFolderIsRefusedRatherThanRead() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = #expect(throws: SafeTensorsError.self) { try SafeTensors.read(contentsOf: folder) }
        #expect(error?.problem == .io("not a regular file"))
    }

    @Test func aHeaderSizeAboveTheLimitIsRefusedBeforeAnyAllocation() {
        // A 200 MB header size in a 16-byte input: refused from the size field alone.
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.read(bytes: Fixtures.file(header: "{}", declaredSize: 200_000_000) + [0, 0, 0, 0, 0, 0])
        }
        #expect(error?.problem == .headerTooLarge(declared: 200_000_000))
    }

    @Test func fileAndMemoryReadsAgree() throws {
        let fromFile = try SafeTensors.read(contentsOf: Fixtures.url("python.safetensors").path)
        let fromMemory = try SafeTensors.read(bytes: try Fixtures.bytes("python.safetensors"))
        #expect(fromFile.names == fromMemory.names)
        #expect(Fixtures.sameTensors(fromFile, fromMemory))
    }

    @Test func rawBytesMakeATensorOfAnyDType() {
        // 1.0 in bfloat16 is 0x3F80, stored little-endian.
        let t = Tensor(bytes: [0x80, 0x3F, 0x00, 0xC0], shape: [2], dtype: .bfloat16)
        #expect(t.dtype == .bfloat16)
        #expect(t.toArray(Float.self) == [1, -2])
        #expect(t.bytes() == [0x80, 0x3F, 0x00, 0xC0])
        #expect(t.byteCount == 4)
    }
}
