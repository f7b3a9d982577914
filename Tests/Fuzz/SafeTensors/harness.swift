// libFuzzer entry point for the safetensors reader, compiled by run.sh together with the
// Torch sources (one module, hence no `import Torch`). Every input must either parse to
// tensors that survive writing and reading back, or throw a SafeTensorsError; anything else
// (a crash, a sanitizer report, an allocation above -malloc_limit_mb) is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let file = try SafeTensors.read(bytes: bytes, name: "fuzz")
        let again = try SafeTensors.read(bytes: try SafeTensors.encode(file.orderedTensors, metadata: file.metadata))
        precondition(Set(again.names) == Set(file.names) && again.metadata == file.metadata)
        for name in file.names { precondition(again[name]!.bytes() == file[name]!.bytes()) }
    } catch is SafeTensorsError {
        return 0
    } catch {
        fatalError("not a SafeTensorsError: \(error)")
    }
    return 0
}
