import ArgumentParser
import Blockwise
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure the speed of the bridge and of training.")

    @Flag(help: "Time small ops through the bridge against libtorch's own cost.")
    var ops = false

    @Option(help: "Calls per measurement.")
    var iterations = 200_000

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard ops else { throw ValidationError("choose what to measure: --ops") }
        guard iterations > 0 else { throw ValidationError("--iterations must be positive, got \(iterations)") }
    }

    func run() throws {
        let rows = OpsBenchmark(iterations: iterations).run()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        print("op              swift µs/call   libtorch µs/call   bridge overhead µs")
        for r in rows {
            let native = r.nativeMicroseconds.map { String(format: "%.3f", $0) } ?? "-"
            let overhead = r.overheadMicroseconds.map { String(format: "%.3f", $0) } ?? "-"
            print(r.op.padding(toLength: 16, withPad: " ", startingAt: 0)
                  + String(format: "%13.3f", r.swiftMicroseconds)
                  + native.leftPadded(19) + overhead.leftPadded(21))
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
