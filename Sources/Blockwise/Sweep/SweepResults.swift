import Foundation

/// A sweep's summary: per variant, the mean ± standard deviation over seeds of the linear
/// probe's top-1 at each block, and of each run's pretraining time and peak memory. Written as
/// `results.json`, a Markdown table `results.md`, and `report.html` with accuracy against
/// depth and error bars (the paper's Fig. 4).
public struct SweepResults: Codable, Sendable {
    /// Mean and sample standard deviation (n − 1; 0 for one seed).
    public struct Statistic: Codable, Sendable, Equatable {
        public var mean: Double
        public var std: Double

        init(_ values: [Double]) {
            let mean = values.reduce(0, +) / Double(values.count)
            let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            self.mean = mean
            std = values.count > 1 ? (squares / Double(values.count - 1)).squareRoot() : 0
        }
    }

    public struct VariantSummary: Codable, Sendable {
        public var variant: String
        public var seeds: [Int]
        /// Per block (1…4).
        public var top1: [Statistic]
        public var pretrainSeconds: Statistic
        public var peakMemoryMB: Statistic
    }

    public var variants: [VariantSummary]
    public var runs: [Sweep.Outcome]

    /// The summary of every run done so far, variants in the plan's order.
    public init(_ sweep: Sweep) {
        let runs = sweep.plan.runs.compactMap(sweep.outcome(of:))
        self.runs = runs
        variants = sweep.plan.variants.compactMap { variant in
            let done = runs.filter { $0.variant == variant.name }
            guard let blocks = done.map(\.top1.count).min(), blocks > 0 else { return nil }
            return VariantSummary(variant: variant.name, seeds: done.map(\.seed),
                                  top1: (0..<blocks).map { b in Statistic(done.map { $0.top1[b] }) },
                                  pretrainSeconds: Statistic(done.map(\.pretrainSeconds)),
                                  peakMemoryMB: Statistic(done.map(\.peakMemoryMB)))
        }
    }

    /// Top-1 (%) mean ± std per block, then time and memory, one row per variant.
    public func table() -> String {
        let blocks = variants.map(\.top1.count).max() ?? 0
        var lines = ["| variant | seeds | " + (1...max(blocks, 1)).map { "block \($0) top-1 (%)" }.joined(separator: " | ")
                     + " | pretraining (s) | peak memory (MB) |"]
        lines.append("|---|---|" + String(repeating: "---|", count: max(blocks, 1)) + "---|---|")
        for summary in variants {
            let cells = summary.top1.map { String(format: "%.1f ± %.1f", 100 * $0.mean, 100 * $0.std) }
            lines.append("| \(summary.variant) | \(summary.seeds.count) | " + cells.joined(separator: " | ")
                + String(format: " | %.0f ± %.0f | %.0f ± %.0f |", summary.pretrainSeconds.mean, summary.pretrainSeconds.std,
                         summary.peakMemoryMB.mean, summary.peakMemoryMB.std))
        }
        return lines.joined(separator: "\n")
    }

    /// Writes results.json, results.md and report.html into the sweep's folder.
    public func write(to folder: String, title: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: folder + "/results.json"), options: .atomic)
            try Data(("# \(title)\n\n" + table() + "\n").utf8).write(to: URL(fileURLWithPath: folder + "/results.md"), options: .atomic)
            try Data(html(title: title).utf8).write(to: URL(fileURLWithPath: folder + "/report.html"), options: .atomic)
        } catch {
            throw RunError("cannot write the sweep's results into \(folder): \(error.localizedDescription)")
        }
    }

    /// Accuracy against depth, one line per variant with its seeds' standard deviation as error bars.
    func html(title: String) -> String {
        let blocks = variants.map(\.top1.count).max() ?? 0
        let chart = LineChart(title: "Linear probe top-1 against depth (mean ± std over seeds)", xLabel: "block", yLabel: "top-1",
                              series: variants.map { summary in
                                  LineChart.Series(name: summary.variant,
                                                   points: summary.top1.enumerated().map { (Double($0.offset + 1), $0.element.mean) },
                                                   errors: summary.top1.map(\.std))
                              },
                              xTicks: (0..<max(blocks, 1)).map { (Double($0 + 1), "\($0 + 1)") }, markers: true)
        let rows = table().split(separator: "\n").enumerated().filter { $0.offset != 1 }.map { index, line in
            let cells = line.split(separator: "|").map { escapeHTML($0.trimmingCharacters(in: .whitespaces)) }
            let tag = index == 0 ? "th" : "td"
            return "<tr>" + cells.map { "<\(tag)>\($0)</\(tag)>" }.joined() + "</tr>"
        }
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(escapeHTML(title))</title>
        <style>\(HTMLReport.css)</style>
        </head>
        <body>
        <h1>\(escapeHTML(title))</h1>
        <figure>\(chart.svg())</figure>
        <table>\(rows.joined(separator: "\n"))</table>
        </body>
        </html>

        """
    }
}
