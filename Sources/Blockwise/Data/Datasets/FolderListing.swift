import Foundation

/// The entries of a folder as the kernel names them: bytes, which need not be UTF-8.
/// Foundation's listing turns a name that is not UTF-8 into another name (or none), so a class
/// or an image could vanish without a word, or be reported missing although it exists; a
/// dataset reads its folders here instead and refuses such names, naming them.
struct FolderListing {
    /// The folder listed.
    let folder: String
    /// The names that are UTF-8, sorted.
    let names: [String]
    /// The names that are not, as read.
    let undecodable: [[UInt8]]

    init(_ folder: String) throws {
        guard let stream = opendir(folder) else { throw DataError(folder, "cannot list: \(String(cString: strerror(errno)))") }
        defer { closedir(stream) }
        var names: [String] = []
        var undecodable: [[UInt8]] = []
        while let entry = readdir(stream) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            guard bytes != Array(".".utf8), bytes != Array("..".utf8) else { continue }
            if let name = String(validating: bytes, as: UTF8.self) { names.append(name) } else { undecodable.append(bytes) }
        }
        self.folder = folder
        self.names = names.sorted()
        self.undecodable = undecodable
    }

    /// Whether the undecodable entry `name` is a folder (following links, as the listing of
    /// class folders does).
    func isFolder(_ name: [UInt8]) -> Bool {
        var status = stat()
        let path = Array(folder.utf8) + [UInt8(ascii: "/")] + name + [0]
        return path.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { stat($0.baseAddress!, &status) == 0 }
        } && status.st_mode & S_IFMT == S_IFDIR
    }

    /// A name as it can be shown: ASCII as is, every other byte as \xNN.
    static func shown(_ name: [UInt8]) -> String {
        name.map { (0x20..<0x7F).contains($0) && $0 != UInt8(ascii: "\\") ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }
            .joined()
    }
}
