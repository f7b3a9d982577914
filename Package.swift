// swift-tools-version: 6.2
// Blockwise: blockwise self-supervised learning in Swift over libtorch.
//
// libtorch is found as ../shared/DESIGN.md says: `LIBTORCH=/dir` (a pip `torch` package
// folder or an unpacked libtorch archive), otherwise Debian's `libtorch-dev` under /usr.
// The C++ standard follows the libtorch version: 1.13's headers only compile as C++17,
// 2.x asks for C++20.
import PackageDescription
import Foundation

struct LibTorch {
    let includes: [String]
    let libDir: String?
    let cxx: CXXLanguageStandard

    static func locate() -> LibTorch {
        if let root = Context.environment["LIBTORCH"], !root.isEmpty {
            let include = root + "/include"
            return LibTorch(includes: [include, include + "/torch/csrc/api/include"],
                            libDir: root + "/lib",
                            cxx: standard(forVersionHeader: include + "/torch/csrc/api/include/torch/version.h"))
        }
        return LibTorch(includes: ["/usr/include/torch/csrc/api/include"],
                        libDir: nil,
                        cxx: standard(forVersionHeader: "/usr/include/torch/csrc/api/include/torch/version.h"))
    }

    /// libtorch 1.x defines `TORCH_VERSION_MAJOR 1` in version.h; 2.x moved it elsewhere.
    static func standard(forVersionHeader path: String) -> CXXLanguageStandard {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.contains("TORCH_VERSION_MAJOR 1\n") ? .cxx17 : .cxx20
    }
}

let torch = LibTorch.locate()
// c10d declares its Gloo process group only under USE_C10D_GLOO; Gloo's own headers come from
// Debian's libgloo-dev (pip torch packages do not ship them).
let cxxFlags = torch.includes.flatMap { ["-isystem", $0] }
    + ["-Wno-deprecated-declarations", "-O2", "-DUSE_DISTRIBUTED", "-DUSE_C10D_GLOO"]
var linkFlags: [String] = []
if let lib = torch.libDir {
    // The rpath lets the binary run without LD_LIBRARY_PATH.
    linkFlags = ["-L\(lib)", "-Xlinker", "-rpath", "-Xlinker", lib]
}

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
            ]
        ),
        .target(name: "Torch", dependencies: ["CTorch"]),
        // Debian C libraries for data files: zlib (gzip IDX), libturbojpeg and libpng (image folders).
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CJPEG", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", providers: [.apt(["libpng-dev"])]),
        .target(name: "Blockwise", dependencies: ["Torch", "Yams", "CZlib", "CJPEG", "CPNG"]),
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
