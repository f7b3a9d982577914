import Foundation
import Testing
@testable import Blockwise

@Suite struct HTMLReportTests {
    /// Two runs with every input: metrics, probe, correlation and corruption results.
    static func completeRuns() throws -> [RunFixture] {
        try [("end-to-end", [0.55, 0.68, 0.79, 0.86]), ("simultaneous", [0.62, 0.71, 0.77, 0.81])].map { name, top1 in
            let fixture = try RunFixture(name: name, overrides: ["training.mode=\(name)"], writeBackbone: false)
            try fixture.writeMetrics(steps: 30)
            try fixture.writeProbe(top1)
            let summary = { (centre: Double) in
                DistributionSummary(count: 100, mean: centre, quantiles: ["0.05": centre - 0.2, "0.25": centre - 0.05, "0.5": centre,
                                                                           "0.75": centre + 0.05, "0.95": centre + 0.2],
                                    histogram: Histogram(lower: -1, upper: 1, counts: (0..<40).map { max(0, 10 - abs($0 - Int((centre + 1) * 20))) }))
            }
            try writeJSON(CorrelationResult(blocks: (1...4).map {
                BlockCorrelation(block: $0, onDiagonal: summary(0.2 * Double($0)), offDiagonal: summary(0.02 * Double($0)))
            }), to: fixture.run.correlationPath)
            try writeJSON(CorruptionResult(blocks: (1...4).map { block in
                BlockRobustness(block: block, cleanError: 0.5 - 0.1 * Double(block), meanError: 0.7 - 0.1 * Double(block),
                                corruptions: Dictionary(uniqueKeysWithValues: Corruption.allCases.map { ($0.rawValue, [0.5, 0.55, 0.6, 0.65, 0.7]) }))
            }), to: fixture.run.corruptionsPath)
            return fixture
        }
    }

    static func occurrences(of needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func aCompleteReportHoldsEveryChartTheRunNamesAndTheConfigTable() throws {
        let fixtures = try Self.completeRuns()
        let html = HTMLReport(runs: try fixtures.map { try RunReportData(run: $0.run) }).html()
        // Per run: loss and learning rate; probe against depth, per-run online probe;
        // two violin plots; mean corruption error against depth, per-run corruption bars.
        #expect(Self.occurrences(of: "<svg", in: html) == 2 * 2 + 1 + 2 + 2 + 1 + 2)
        #expect(Self.occurrences(of: "</svg>", in: html) == Self.occurrences(of: "<svg", in: html))
        for id in ["training", "probe", "correlation", "corruptions", "config"] { #expect(html.contains("<section id=\"\(id)\">")) }
        #expect(html.contains("<span class=\"run\" title=\"\(fixtures[0].run.path)\">end-to-end</span>"))
        #expect(html.contains("<th>end-to-end</th><th>simultaneous</th>"))
        #expect(html.contains("<table class=\"config\">"))
        #expect(html.contains("<tr class=\"differs\"><td>training.mode</td><td>end-to-end</td><td>simultaneous</td></tr>"))
        #expect(html.contains("<tr><td>model.arch</td><td>resnet18</td><td>resnet18</td></tr>"))
        #expect(html.contains("<td>86.00</td>"), "probe table in percent")
        #expect(Self.occurrences(of: "class=\"violin\"", in: html) == 2 * 4 * 2)
        #expect(Self.occurrences(of: "class=\"bar\"", in: html) == 2 * 4 * (Corruption.allCases.count + 2))
        #expect(!html.contains("No data yet"))
    }

    @Test func anEndToEndRunsLossIsLabelledAsTheNetworksNotBlockOnes() throws {
        let fixture = try RunFixture(name: "e2e", overrides: ["training.mode=end-to-end"], writeBackbone: false)
        try fixture.writeMetrics(steps: 20, owner: .network)
        let html = HTMLReport(runs: [try RunReportData(run: fixture.run)]).html()
        #expect(html.contains("e2e: loss of the network"))
        // In the legends of the loss chart and of the online probe's chart.
        #expect(Self.occurrences(of: "class=\"legend-text\">network</text>", in: html) == 2)
        #expect(!html.contains("block 1"))
    }

    @Test func aRunLoggedBeforeTheRecordHadAnOwnerReportsItsBlocks() throws {
        let fixture = try RunFixture(name: "old", writeBackbone: false)
        try Data("""
            {"epoch":0,"images_per_second":500,"kind":"step","loss":[0.9,0.8],"lr":0.1,"peak_memory_mb":42,"phase":0,"step":1}
            {"epoch":0,"images_per_second":500,"kind":"step","loss":[0.7,0.6],"lr":0.1,"peak_memory_mb":42,"phase":0,"step":2}
            {"epoch":1,"kind":"epoch","loss":[0.8,0.7],"online_probe_top1":[null,null],"phase":0,"step":2}

            """.utf8).write(to: URL(fileURLWithPath: fixture.run.metricsPath))
        let data = try RunReportData(run: fixture.run)
        #expect(data.steps.map(\.loss) == [[0.9, 0.8], [0.7, 0.6]])
        #expect(data.onlineProbe.isEmpty, "an epoch without probe accuracies draws no online-probe chart")
        let html = HTMLReport(runs: [data]).html()
        #expect(html.contains("old: loss per block"))
        #expect(html.contains("class=\"legend-text\">block 2</text>"))
    }

    @Test func thePageIsSelfContained() throws {
        let fixtures = try Self.completeRuns()
        let html = HTMLReport(runs: try fixtures.map { try RunReportData(run: $0.run) }).html()
        #expect(!html.contains("<script"))
        #expect(!html.contains("src="))
        #expect(!html.contains("<link"))
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").dropFirst().allSatisfy { $0.hasPrefix("www.w3.org/2000/svg") })
        #expect(!html.contains("https://"))
    }

    @Test func sectionsWithoutDataSayWhichCommandWritesThem() throws {
        let fixture = try RunFixture(writeBackbone: false)
        let html = HTMLReport(runs: [try RunReportData(run: fixture.run)]).html()
        #expect(html.contains("No data yet. metrics.jsonl is written by <code>blockwise pretrain</code>."))
        #expect(html.contains("No data yet. probe.json is written by <code>blockwise probe</code>."))
        #expect(html.contains("No data yet. correlation.json is written by <code>blockwise analyze correlation</code>."))
        #expect(html.contains("No data yet. corruptions.json is written by <code>blockwise analyze corruptions</code>."))
        #expect(html.contains("<table class=\"config\">"))
        #expect(!html.contains("<svg"))
    }

    @Test func aRunMissingOneInputIsNamedBesideTheOthersCharts() throws {
        let fixtures = try Self.completeRuns()
        try FileManager.default.removeItem(atPath: fixtures[1].run.probePath)
        let html = HTMLReport(runs: try fixtures.map { try RunReportData(run: $0.run) }).html()
        #expect(html.contains("No data yet for simultaneous: probe.json is written by <code>blockwise probe</code>."))
    }

    @Test func namesAreEscaped() throws {
        let fixture = try RunFixture(name: "a<b>&c", writeBackbone: false)
        let html = HTMLReport(runs: [try RunReportData(run: fixture.run)]).html()
        #expect(html.contains("a&lt;b&gt;&amp;c"))
        #expect(!html.contains("a<b>"))
    }

    @Test func aMissingRunOrAnUnreadableFileIsAClearError() throws {
        let missing = #expect(throws: RunError.self) { try RunReportData(run: RunDirectory("/nonexistent/run")) }
        #expect(missing?.description == "/nonexistent/run: no such run directory")
        let fixture = try RunFixture(writeBackbone: false)
        try Data("{\"blocks\": 3}".utf8).write(to: URL(fileURLWithPath: fixture.run.probePath))
        let bad = #expect(throws: RunError.self) { try RunReportData(run: fixture.run) }
        #expect(bad?.description.hasPrefix("\(fixture.run.probePath): not the expected JSON") == true)
    }

    @Test func headlessChromiumRendersTheChartsOnAPage() throws {
        let chromium = "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromium), "install Debian's chromium to render the report")
        let fixtures = try Self.completeRuns()
        let page = fixtures[0].folder.path + "/report.html"
        try HTMLReport(runs: try fixtures.map { try RunReportData(run: $0.run) }).write(to: page)
        let screenshot = fixtures[0].folder.path + "/report.png"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--screenshot=\(screenshot)",
                             "--window-size=1200,2000", "file://" + page]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let image = try ImageDecoder.decode(screenshot)
        #expect(image.width == 1200 && image.height == 2000)
        var colours = Set<UInt32>()
        var inked = 0, firstSeriesColour = 0
        for p in 0..<(image.width * image.height) {
            let (r, g, b) = (image.rgb[3 * p], image.rgb[3 * p + 1], image.rgb[3 * p + 2])
            colours.insert(UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b))
            if Int(r) + Int(g) + Int(b) < 600 { inked += 1 }
            // The first series' colour, #4e79a7, drawn by lines, violins and bars.
            if abs(Int(r) - 0x4E) < 6, abs(Int(g) - 0x79) < 6, abs(Int(b) - 0xA7) < 6 { firstSeriesColour += 1 }
        }
        #expect(colours.count > 50, "a blank page has one or two colours")
        #expect(Double(inked) / Double(image.width * image.height) > 0.02)
        #expect(firstSeriesColour > 1000)
    }
}
