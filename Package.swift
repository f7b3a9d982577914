// swift-tools-version: 6.2
// Blockwise: blockwise self-supervised learning in Swift over libtorch.
//
// libtorch is found as ../shared/DESIGN.md says: `LIBTORCH=/dir` (a pip `torch` package
// folder or an unpacked libtorch archive), otherwise Debian's `libtorch-dev` under /usr.
// The C++ standard follows the libtorch version: 1.13's headers only compile as C++17,
// 2.x asks for C++20. A CUDA build (libtorch_cuda.so beside libtorch_cpu.so, as in PyPI's
// default torch wheel) also gets c10d's NCCL process group, when the headers it needs exist.
import PackageDescription
import Foundation

struct LibTorch {
    let includes: [String]
    let libDir: String?
    let cxx: CXXLanguageStandard
    /// Set for a CUDA build whose NCCL process group can be compiled.
    let cuda: CUDABuild?

    static func locate() -> LibTorch {
        if let root = Context.environment["LIBTORCH"], !root.isEmpty {
            let include = root + "/include"
            return LibTorch(includes: [include, include + "/torch/csrc/api/include"],
                            libDir: root + "/lib",
                            cxx: standard(forVersionHeader: include + "/torch/csrc/api/include/torch/version.h"),
                            cuda: CUDABuild.locate(root: root))
        }
        // Debian's libtorch-dev is a CPU build: it ships ProcessGroupNCCL.hpp but no libtorch_cuda.
        return LibTorch(includes: ["/usr/include/torch/csrc/api/include"],
                        libDir: nil,
                        cxx: standard(forVersionHeader: "/usr/include/torch/csrc/api/include/torch/version.h"),
                        cuda: nil)
    }

    /// libtorch 1.x defines `TORCH_VERSION_MAJOR 1` in version.h; 2.x moved it elsewhere.
    /// Every libtorch has the file: without it no standard is right, and a guess would fail
    /// later in libtorch's headers with errors that name neither the file nor the cause.
    static func standard(forVersionHeader path: String) -> CXXLanguageStandard {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            fatalError("""
                cannot read libtorch's \(path): install libtorch-dev (`make deps`), \
                or set LIBTORCH to a folder with include/ and lib/ (a pip torch package folder)
                """)
        }
        return text.contains("TORCH_VERSION_MAJOR 1\n") ? .cxx17 : .cxx20
    }
}

/// What compiling c10d's NCCL process group takes beyond libtorch's own headers: nccl.h and the
/// CUDA runtime headers. A pip torch package finds them in the `nvidia-*` wheels installed
/// beside it (site-packages/nvidia/<name>/include: nccl/ for NCCL, cu13/ or cuda_runtime/ for
/// the runtime); an unpacked libtorch archive in a CUDA toolkit (CUDA_HOME, /usr/local/cuda).
struct CUDABuild {
    let includes: [String]

    static func locate(root: String) -> CUDABuild? {
        let files = FileManager.default
        let lib = root + "/lib"
        guard files.fileExists(atPath: lib + "/libtorch_cuda.so"),
              files.fileExists(atPath: root + "/include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp")
        else { return nil }
        let wheels = root + "/../nvidia"
        var candidates = ((try? files.contentsOfDirectory(atPath: wheels)) ?? []).sorted().map { "\(wheels)/\($0)/include" }
        if let home = Context.environment["CUDA_HOME"], !home.isEmpty { candidates.append(home + "/include") }
        candidates.append("/usr/local/cuda/include")
        func folder(holding header: String) -> String? {
            candidates.first { files.fileExists(atPath: $0 + "/" + header) }
        }
        guard let nccl = folder(holding: "nccl.h"), let runtime = folder(holding: "cuda_runtime_api.h") else { return nil }
        return CUDABuild(includes: Array(Set([nccl, runtime])).sorted())
    }
}

let torch = LibTorch.locate()
// c10d declares its Gloo process group only under USE_C10D_GLOO; Gloo's own headers come from
// Debian's libgloo-dev (pip torch packages do not ship them).
let cxxFlags = torch.includes.flatMap { ["-isystem", $0] }
    + ["-Wno-deprecated-declarations", "-O2", "-DUSE_DISTRIBUTED", "-DUSE_C10D_GLOO"]
    + (torch.cuda.map { cuda in
        // USE_C10D_NCCL opens c10d's NCCL headers; CTORCH_CUDA the bridge's CUDA-only parts
        // (NCCL groups, the caching allocator's statistics).
        cuda.includes.flatMap { ["-isystem", $0] } + ["-DUSE_C10D_NCCL", "-DCTORCH_CUDA"]
    } ?? [])
var linkFlags: [String] = []
if let lib = torch.libDir {
    // The rpath lets the binary run without LD_LIBRARY_PATH.
    linkFlags = ["-L\(lib)", "-Xlinker", "-rpath", "-Xlinker", lib]
}
// NCCL groups and the CUDA allocator live in libtorch_cuda and libc10_cuda; libtorch_cuda's own
// rpath finds the nvidia-* libraries. Linked by name, they stay needed (the bridge calls them).
let cudaLibraries: [LinkerSetting] = torch.cuda == nil ? [] : [.linkedLibrary("torch_cuda"), .linkedLibrary("c10_cuda")]

let package = Package(
    name: "Blockwise",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "Blockwise", targets: ["Blockwise"]),
        .executable(name: "blockwise", targets: ["BlockwiseCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .target(
            name: "CTorch",
            cxxSettings: [.unsafeFlags(cxxFlags)],
            linkerSettings: [
                .unsafeFlags(linkFlags),
                .linkedLibrary("torch_cpu"),
                .linkedLibrary("c10"),
                .linkedLibrary("dl"),
            ] + cudaLibraries
        ),
        .target(name: "Torch", dependencies: ["CTorch"]),
        // Debian C libraries for data files: zlib (gzip IDX), libturbojpeg and libpng (image folders).
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CJPEG", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", providers: [.apt(["libpng-dev"])]),
        // The loader's pixel kernels, in C so that they build for AVX-512 and AVX2 beside the
        // baseline; their float operations are torchvision's, in its order, never fused into
        // multiply-adds (-ffp-contract=off: clang fuses by default where the CPU has FMA).
        .target(name: "CImaging", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]),
        .target(name: "Blockwise", dependencies: ["Torch", "Yams", "CZlib", "CJPEG", "CPNG", "CImaging"]),
        .executableTarget(
            name: "BlockwiseCLI",
            dependencies: [
                "Blockwise", "Torch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TorchTests", dependencies: ["Torch"]),
        .testTarget(name: "BlockwiseTests", dependencies: ["Blockwise", "Torch"]),
        .testTarget(
            name: "BlockwiseCLITests",
            dependencies: ["BlockwiseCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
    ],
    cxxLanguageStandard: torch.cxx
)
