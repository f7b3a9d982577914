import Foundation
import Torch

/// What `blockwise doctor` reports: the facts of this machine that decide training speed.
public struct DoctorReport: Sendable {
    public var torchVersion: String
    public var libraryDirectory: String
    public var cudaLibrary: String?
    public var cudaDevices: Int
    public var threads: Int
    /// Threads the bridge's own kernels ran a test loop on (`Runtime.bridgeKernelThreads`).
    public var bridgeThreads: Int
    public var cores: Int
    /// The BLAS library mapped into this process, from /proc/self/maps.
    public var blasLibrary: String?
    /// libtorch's own build summary line for BLAS (`BLAS_INFO=…`).
    public var blasBuildInfo: String?
    /// OpenBLAS's own thread pool, where it has one (`Runtime.openBLASPool`).
    public var openBLASPool: (threads: Int, spinExponent: Int)?
    /// Measured float32 GFLOP/s of a 1024×1024 matrix product.
    public var matmulGFLOPS: Double
    /// The CPU's bfloat16 units, from its flags in /proc/cpuinfo (AMX, AVX-512 BF16); nil: none.
    public var bfloat16Units: String?
    /// Measured GFLOP/s of one 3×3 convolution (ResNet's most common layer) in float32 and in
    /// bfloat16: what `training.precision: bf16` is worth on this CPU.
    public var convolutionGFLOPS: (float32: Double, bfloat16: Double)
    public var datasets: [DatasetPresence]
    /// The process-group backends this build can create (data-parallel training).
    public var distributedBackends: [ProcessGroup.Backend]
    /// What malloc does with freed memory in this process (`BLOCKWISE_MALLOC`).
    public var hostAllocator: HostAllocator
    public var warnings: [String]

    /// Below this many GFLOP/s per core a product is running on a reference BLAS: OpenBLAS
    /// gives 60–90 per core on AVX2 machines, the reference implementation 2–3.
    public static let slowBLASPerCore = 10.0

    /// Gathers the report; measuring the BLAS speed takes about a second.
    public static func gather() -> DoctorReport {
        let config = Runtime.buildConfiguration
        var report = DoctorReport(
            torchVersion: Runtime.version,
            libraryDirectory: Runtime.libraryDirectory,
            cudaLibrary: Runtime.cudaLibrary,
            cudaDevices: Runtime.cudaDeviceCount,
            threads: Runtime.threads,
            // One task per thread: every one of them takes a share.
            bridgeThreads: Runtime.bridgeKernelThreads(tasks: Runtime.threads),
            cores: Runtime.coreCount,
            // cuBLAS, mapped in a CUDA build, serves GPU products only.
            blasLibrary: mappedLibrary(matching: ["blas", "mkl"], except: ["cublas"]),
            blasBuildInfo: config.split(separator: "\n").lazy
                .compactMap { line in line.range(of: "BLAS_INFO=").map { String(line[$0.upperBound...].prefix { $0 != "," }) } }
                .first,
            openBLASPool: Runtime.openBLASPool,
            matmulGFLOPS: measureMatmulGFLOPS(size: 1024),
            bfloat16Units: bfloat16Units(cpuFlags: cpuFlags()),
            convolutionGFLOPS: (measureConvolutionGFLOPS(.float32), measureConvolutionGFLOPS(.bfloat16)),
            datasets: DatasetPresence.scan(),
            distributedBackends: ProcessGroup.Backend.allCases.filter(\.isAvailable),
            hostAllocator: Runtime.hostAllocator,
            warnings: [])
        if let warning = blasWarning(gflops: report.matmulGFLOPS, threads: report.threads) {
            report.warnings.append(warning)
        }
        if let warning = bfloat16Warning(units: report.bfloat16Units, gflops: report.convolutionGFLOPS) {
            report.warnings.append(warning)
        }
        if report.bridgeThreads < report.threads {
            report.warnings.append("the bridge's kernels (fused heads, noise) ran on \(report.bridgeThreads) of libtorch's "
                                   + "\(report.threads) threads: its OpenMP runtime was not found")
        }
        if report.threads < report.cores {
            report.warnings.append("libtorch uses \(report.threads) of \(report.cores) cores (BLOCKWISE_THREADS sets it)")
        }
        if !report.datasets.contains(where: \.installed) {
            report.warnings.append("no dataset installed: runs use the synthetic dataset (apt-get install dataset-fashion-mnist)")
        }
        return report
    }

    /// The warning for a matrix-product speed that only a reference BLAS gives, else nil.
    public static func blasWarning(gflops: Double, threads: Int) -> String? {
        let perThread = gflops / Double(max(1, threads))
        guard perThread < slowBLASPerCore else { return nil }
        return String(format: "matrix products run at %.1f GFLOP/s (%.1f per thread): far below what the cores can do. "
                      + "Install OpenBLAS: apt-get install libopenblas0-pthread", gflops, perThread)
    }

    /// The bfloat16 units among a CPU's flags: AMX's tiles (Sapphire Rapids on) or AVX-512's
    /// BF16 dot products (Cooper Lake, Zen 4); nil when it has neither and bf16 is emulated.
    public static func bfloat16Units(cpuFlags: Set<String>) -> String? {
        let units = [("amx_bf16", "AMX"), ("avx512_bf16", "AVX-512 BF16")].filter { cpuFlags.contains($0.0) }
        return units.isEmpty ? nil : units.map { "\($0.1) (\($0.0))" }.joined(separator: ", ")
    }

    /// The warning for bf16 that does not pay on this CPU, else nil.
    public static func bfloat16Warning(units: String?, gflops: (float32: Double, bfloat16: Double)) -> String? {
        guard gflops.bfloat16 < gflops.float32 else { return nil }
        return String(format: "bf16 convolutions run at %.2f× float32's rate here (%@): keep training.precision float32",
                      gflops.bfloat16 / gflops.float32, units == nil ? "the CPU has no bf16 units" : "despite \(units!)")
    }

    /// The flags of the first processor in /proc/cpuinfo; empty where there is none (not Linux).
    static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Best of several timed 3×3 convolutions, 64 → 64 channels on a batch of 8 at 56² (ResNet's
    /// first stage), in `dtype`: about 1.8 GFLOP each.
    public static func measureConvolutionGFLOPS(_ dtype: DType, repeats: Int = 5) -> Double {
        let generator = Generator(seed: 0)
        let input = Tensor.randn([8, 64, 56, 56], generator: generator).to(dtype)
        let weight = Tensor.randn([64, 64, 3, 3], generator: generator).to(dtype)
        let run = { _ = conv2d(input, weight: weight, padding: [1, 1]).sum().item() }
        run()  // warm-up: oneDNN builds its kernel for the shape
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            run()
            best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * 8 * 64 * 64 * 9 * 56 * 56 / best / 1e9
    }

    /// Best of several timed float32 products of two size×size matrices.
    public static func measureMatmulGFLOPS(size: Int, repeats: Int = 5) -> Double {
        let generator = Generator(seed: 0)
        let a = Tensor.randn([size, size], generator: generator)
        let b = Tensor.randn([size, size], generator: generator)
        _ = a.mm(b).sum().item()  // warm-up: thread pool and BLAS start-up
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            let c = a.mm(b)
            _ = c.sum().item()
            best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * pow(Double(size), 3) / best / 1e9
    }

    static func mappedLibrary(matching names: [String], except excluded: [String] = []) -> String? {
        // /proc files report size 0, so read to the end rather than by size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps") else { return nil }
        let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        for line in maps.split(separator: "\n") {
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasPrefix("/") else {
                continue
            }
            let file = path.split(separator: "/").last.map(String.init) ?? ""
            let name = file.lowercased()
            if names.contains(where: name.contains), !excluded.contains(where: name.contains) { return String(path) }
        }
        return nil
    }
}

/// Whether a dataset of the paper's experiments is present at its default location.
public struct DatasetPresence: Sendable {
    public var name: String
    public var path: String
    public var installed: Bool
    public var hint: String

    /// Default locations: Debian's dataset packages, then `$BLOCKWISE_DATA/<name>`.
    public static func scan() -> [DatasetPresence] {
        let root = ProcessInfo.processInfo.environment["BLOCKWISE_DATA"] ?? "/usr/share/datasets"
        let known: [(String, String, String, String)] = [
            ("fashion-mnist", "/usr/share/datasets/fashion-mnist", "train-images-idx3-ubyte.gz",
             "apt-get install dataset-fashion-mnist"),
            ("cifar10", "\(root)/cifar10", "data_batch_1.bin", "copy the CIFAR-10 binary batches there"),
            ("stl10", "\(root)/stl10", "unlabeled_X.bin", "copy the STL-10 binary files there"),
            ("imagenet", "\(root)/imagenet", "train", "an ImageNet-layout folder (train/, val/)"),
        ]
        return known.map { name, path, marker, hint in
            DatasetPresence(name: name, path: path,
                            installed: FileManager.default.fileExists(atPath: path + "/" + marker), hint: hint)
        }
    }
}
