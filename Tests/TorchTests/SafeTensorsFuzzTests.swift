import Foundation
import Testing
import Torch

/// The reader's hardening: malformed files give a `SafeTensorsError`, never a crash, a hang
/// or a giant allocation. A crash fails these tests by killing the test process.
@Suite("SafeTensors fuzzing")
struct SafeTensorsFuzzTests {
    typealias Fixtures = SafeTensorsFixtures

    /// What reading one input gave.
    enum Outcome { case parsed, rejected(String) }

    /// Reads `input` and checks that it either parses to consistent tensors or throws a
    /// `SafeTensorsError`; a parsed file must also survive writing and reading back.
    static func check(_ input: [UInt8]) -> Outcome? {
        do {
            let file = try SafeTensors.read(bytes: input, name: "fuzz")
            let headerSize = Int(SafeTensorsMutator.size(input))
            let covered = file.names.reduce(0) { $0 + file[$1]!.byteCount }
            guard covered == input.count - 8 - headerSize, Set(file.names).count == file.names.count,
                  file.tensors.count == file.names.count
            else { return nil }
            let again = try SafeTensors.read(bytes: try SafeTensors.encode(file.orderedTensors, metadata: file.metadata))
            return Fixtures.sameTensors(file, again) ? .parsed : nil
        } catch let error as SafeTensorsError {
            return error.description.hasPrefix("fuzz: ") ? .rejected(error.problem.code) : nil
        } catch {
            return nil
        }
    }

    /// Keeps a failing input where it can be added to the corpus, and says where.
    static func record(_ input: [UInt8], _ label: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-fuzz-findings")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent("\(label).safetensors")
        try? Data(input).write(to: url)
        Issue.record("inconsistent result for input \(label), saved to \(url.path)")
    }

    static func seeds() throws -> [[UInt8]] {
        let generator = Generator(seed: 3)
        let made = try [
            SafeTensors.encode([("w", Tensor.randn([2, 3], generator: generator)), ("b", Tensor([true, false]))]),
            SafeTensors.encode([("x", Tensor.randn([4], dtype: .bfloat16, generator: generator)),
                                ("n", Tensor([1, -1] as [Int64])), ("e", Tensor.zeros([0], dtype: .float16))],
                               metadata: ["k": "v"]),
        ]
        return try made + [Fixtures.bytes("python.safetensors"), Fixtures.bytes("python_metadata.safetensors")]
    }

    @Test func everyCorpusFileThrowsTheErrorItWasMadeFor() throws {
        let corpus = Fixtures.folder.appendingPathComponent("corpus")
        let lines = try String(contentsOf: corpus.appendingPathComponent("expected.txt"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count >= 40)
        for line in lines {
            let parts = line.split(separator: " ").map(String.init)
            let path = corpus.appendingPathComponent(parts[0]).path
            let fromFile = #expect(throws: SafeTensorsError.self, "\(parts[0])") { try SafeTensors.read(contentsOf: path) }
            #expect(fromFile?.problem.code == parts[1], "\(parts[0]): \(fromFile.map(String.init(describing:)) ?? "parsed")")
            #expect(fromFile?.file == path)
            let fromMemory = #expect(throws: SafeTensorsError.self) {
                try SafeTensors.read(bytes: Fixtures.bytes("corpus/" + parts[0]), name: path)
            }
            #expect(fromMemory == fromFile, "\(parts[0]): file and memory reads disagree")
        }
    }

    @Test func everyTruncationOfAValidFileIsRejected() throws {
        let python = try Fixtures.bytes("python.safetensors")
        for length in 0..<python.count {
            let outcome = Self.check(Array(python.prefix(length)))
            guard case .rejected = outcome else {
                Self.record(Array(python.prefix(length)), "truncated-\(length)")
                return
            }
        }
    }

    @Test func everyBitFlipInTheSizeFieldAndHeaderParsesConsistentlyOrThrows() throws {
        let python = try Fixtures.bytes("python_metadata.safetensors")
        let headerEnd = 8 + Int(SafeTensorsMutator.size(python))
        var parsed = 0
        for bit in 0..<(headerEnd * 8) {
            var input = python
            input[bit / 8] ^= 1 << UInt8(bit % 8)
            switch Self.check(input) {
            case .parsed: parsed += 1
            case .rejected: break
            case nil: Self.record(input, "bitflip-\(bit)"); return
            }
        }
        // Flips inside names and metadata values keep the file valid: both outcomes are exercised.
        #expect(parsed > 0 && parsed < headerEnd * 8)
    }

    /// A few thousand seeded mutations (set SAFETENSORS_FUZZ_CASES for a longer run,
    /// SAFETENSORS_FUZZ_SEED for other cases); any inconsistency is saved for the corpus.
    @Test func mutatedFilesParseConsistentlyOrThrow() throws {
        let environment = ProcessInfo.processInfo.environment
        let cases = environment["SAFETENSORS_FUZZ_CASES"].flatMap(Int.init) ?? 4000
        let seed = environment["SAFETENSORS_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_240_601
        var mutator = SafeTensorsMutator(seed: seed)
        let seeds = try Self.seeds()
        var parsed = 0
        var codes: [String: Int] = [:]
        var failures = 0
        for index in 0..<cases {
            let input = mutator.mutate(seeds[index % seeds.count])
            switch Self.check(input) {
            case .parsed: parsed += 1
            case .rejected(let code): codes[code, default: 0] += 1
            case nil:
                failures += 1
                if failures <= 5 { Self.record(input, "seed\(seed)-case\(index)") }
            }
        }
        #expect(failures == 0)
        // The loop reaches both sides and many distinct rules, not just the size field.
        #expect(parsed >= cases / 20, "parsed \(parsed) of \(cases)")
        #expect(codes.count >= 15, "rules reached: \(codes.sorted { $0.key < $1.key })")
    }
}
