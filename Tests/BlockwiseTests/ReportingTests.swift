import Foundation
import Testing
@testable import Blockwise

@Suite struct ProgressReporterTests {
    final class Lines: @unchecked Sendable { var items: [String] = [] }

    @Test func plainOutputWritesWholeLinesWithETAAndThroughput() {
        let lines = Lines()
        let progress = ProgressReporter(total: 4, label: "epoch 1", interactive: false, minimumInterval: 0) { lines.items.append($0) }
        progress.update(done: 2, rate: 512, fields: [("loss1", "0.50")])
        #expect(lines.items.count == 1)
        #expect(lines.items[0].hasPrefix("epoch 1 2/4  ETA "))
        #expect(lines.items[0].contains("512 img/s"))
        #expect(lines.items[0].hasSuffix("loss1 0.50\n"))
        #expect(!lines.items[0].contains("\r"))
    }

    @Test func terminalOutputRedrawsABarInPlace() {
        let lines = Lines()
        let progress = ProgressReporter(total: 10, label: "step", interactive: true) { lines.items.append($0) }
        progress.update(done: 5, force: true)
        progress.update(done: 10)
        #expect(lines.items[0].hasPrefix("\r"))
        #expect(lines.items[0].contains("[############............]"))
        #expect(lines.items[1].hasSuffix("\n"))
    }

    @Test func plainLinesAreRateLimited() {
        let lines = Lines()
        let progress = ProgressReporter(total: 100, label: "x", interactive: false, minimumInterval: 3600) { lines.items.append($0) }
        for i in 1...50 { progress.update(done: i) }
        #expect(lines.items.count == 1)
        progress.update(done: 100)
        #expect(lines.items.count == 2)
    }

    @Test func durationsReadAsHoursMinutesSeconds() {
        #expect(ProgressReporter.duration(42) == "42s")
        #expect(ProgressReporter.duration(185) == "3m05s")
        #expect(ProgressReporter.duration(3720) == "1h02m")
    }
}
