import Foundation

/// `blockwise report`: one self-contained HTML page (inline SVG and CSS, no scripts, nothing
/// fetched) comparing runs: loss per block over training, linear-probe accuracy against depth
/// (the paper's Fig. 4 right), the cross-correlation violins of Fig. 8, the corruption errors
/// of App. C, and the runs' configurations side by side. A section without data says which
/// command produces it.
public struct HTMLReport {
    public let runs: [RunReportData]
    public let generated: Date

    public init(runs: [RunReportData], generated: Date = Date()) {
        self.runs = runs
        self.generated = generated
    }

    public func html() -> String {
        let names = runs.map(\.name)
        var body = "<h1>Blockwise report</h1>\n<p class=\"meta\">Runs: "
        body += runs.map { "<span class=\"run\" title=\"\(escapeHTML($0.run.path))\">\(escapeHTML($0.name))</span>" }.joined(separator: ", ")
        body += " &middot; generated \(escapeHTML(ISO8601DateFormatter().string(from: generated)))</p>\n"
        body += section("training", "Training loss", lossCharts(), missing: runs.filter { $0.steps.isEmpty }.map(\.name),
                        hint: "metrics.jsonl is written by <code>blockwise pretrain</code>")
        body += section("probe", "Linear probe accuracy against depth", probeCharts(),
                        missing: runs.filter { $0.probe == nil }.map(\.name), hint: "probe.json is written by <code>blockwise probe</code>")
        body += section("correlation", "Cross-correlation between two views (Fig. 8)", correlationCharts(names: names),
                        missing: runs.filter { $0.correlation == nil }.map(\.name),
                        hint: "correlation.json is written by <code>blockwise analyze correlation</code>")
        body += section("corruptions", "Robustness to corruptions (App. C)", corruptionCharts(names: names),
                        missing: runs.filter { $0.corruptions == nil }.map(\.name),
                        hint: "corruptions.json is written by <code>blockwise analyze corruptions</code>")
        body += section("config", "Configuration", configTable().map { [$0] } ?? [],
                        missing: runs.filter { $0.config == nil }.map(\.name), hint: "config.yaml is written by <code>blockwise pretrain</code>")
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Blockwise report: \(escapeHTML(names.joined(separator: ", ")))</title>
        <style>\(Self.css)</style>
        </head>
        <body>
        \(body)</body>
        </html>

        """
    }

    /// Writes the page atomically.
    public func write(to path: String) throws {
        do {
            try Data(html().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RunError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    private func section(_ id: String, _ title: String, _ figures: [String], missing: [String], hint: String) -> String {
        var html = "<section id=\"\(id)\">\n<h2>\(escapeHTML(title))</h2>\n"
        if figures.isEmpty {
            html += "<p class=\"empty\">No data yet. \(hint).</p>\n"
        } else {
            html += "<div class=\"figures\">\n" + figures.joined() + "</div>\n"
            if !missing.isEmpty {
                html += "<p class=\"note\">No data yet for \(missing.map(escapeHTML).joined(separator: ", ")): \(hint).</p>\n"
            }
        }
        return html + "</section>\n"
    }

    private func lossCharts() -> [String] {
        runs.filter { !$0.steps.isEmpty }.flatMap { run -> [String] in
            let title = run.steps.last!.owner == .network ? "loss of the network" : "loss per block"
            var charts = [LineChart(title: "\(run.name): \(title)", xLabel: "step", yLabel: "loss",
                                    series: entrySeries(run.steps) { $0.loss }).svg()]
            let rates = run.steps.compactMap { record in record.lr.map { (Double(record.step), $0) } }
            if !rates.isEmpty {
                charts.append(LineChart(title: "\(run.name): learning rate", xLabel: "step", yLabel: "lr",
                                        series: [LineChart.Series(name: "", points: rates)]).svg())
            }
            return charts
        }
    }

    /// One series per entry of `values` over the records' steps, named for what the entry
    /// belongs to ("block K", or "network" for an end-to-end run).
    private func entrySeries(_ records: [MetricsRecord], scale: Double = 1,
                             _ values: (MetricsRecord) -> [Double?]) -> [LineChart.Series] {
        guard let last = records.last else { return [] }
        let entries = records.map { values($0).count }.max() ?? 0
        return (0..<entries).map { k in
            LineChart.Series(name: last.entryName(k), points: records.compactMap { record in
                let row = values(record)
                return k < row.count ? row[k].map { (Double(record.step), scale * $0) } : nil
            })
        }
    }

    private func probeCharts() -> [String] {
        let probed = runs.enumerated().filter { $0.element.probe != nil || !$0.element.onlineProbe.isEmpty }
        guard !probed.isEmpty else { return [] }
        var charts: [String] = []
        let withProbe = runs.filter { $0.probe != nil }
        if !withProbe.isEmpty {
            let depth = withProbe.flatMap { $0.probe!.blocks.map(\.block) }.max() ?? 1
            let series = withProbe.map { run in
                LineChart.Series(name: run.name, points: run.probe!.blocks.map { (Double($0.block), 100 * $0.top1) })
            }
            charts.append(LineChart(title: "Top-1 accuracy of a linear probe on each block", xLabel: "block", yLabel: "top-1 (%)",
                                    series: series, xTicks: (1...depth).map { (Double($0), "B\($0)") }, markers: true).svg())
            charts.append(probeTable(withProbe))
        }
        let online = runs.filter { !$0.onlineProbe.isEmpty }
        for run in online {
            charts.append(LineChart(title: "\(run.name): online probe top-1 during training", xLabel: "step", yLabel: "top-1 (%)",
                                    series: entrySeries(run.onlineProbe, scale: 100) { $0.onlineProbeTop1 ?? [] }).svg())
        }
        return charts
    }

    private func probeTable(_ runs: [RunReportData]) -> String {
        let depth = runs.flatMap { $0.probe!.blocks.map(\.block) }.max() ?? 0
        var html = "<table class=\"probe\"><thead><tr><th>run</th><th>method</th>"
        html += (1...max(1, depth)).map { "<th>B\($0)</th>" }.joined() + "<th>concatenated</th></tr></thead><tbody>\n"
        for run in runs {
            let probe = run.probe!
            html += "<tr><td>\(escapeHTML(run.name))</td><td>\(escapeHTML(probe.method))</td>"
            for block in 1...max(1, depth) {
                html += "<td>" + (probe.blocks.first { $0.block == block }.map { String(format: "%.2f", 100 * $0.top1) } ?? "") + "</td>"
            }
            html += "<td>" + (probe.concatenated.map { String(format: "%.2f", 100 * $0.top1) } ?? "") + "</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    private func correlationCharts(names: [String]) -> [String] {
        let analysed = runs.enumerated().filter { $0.element.correlation != nil }
        guard !analysed.isEmpty else { return [] }
        let blocks = Set(analysed.flatMap { $0.element.correlation!.blocks.map(\.block) }).sorted()
        func plot(_ title: String, _ pick: (BlockCorrelation) -> DistributionSummary) -> String {
            ViolinPlot(title: title, yLabel: "correlation", seriesNames: names, groups: blocks.map { block in
                ViolinPlot.Group(label: "B\(block)", violins: analysed.compactMap { index, run in
                    run.correlation!.blocks.first { $0.block == block }.map { ViolinPlot.Violin(series: index, summary: pick($0)) }
                })
            }).svg()
        }
        return [plot("On-diagonal terms (invariance)", \.onDiagonal), plot("Off-diagonal terms (redundancy)", \.offDiagonal)]
    }

    private func corruptionCharts(names: [String]) -> [String] {
        let evaluated = runs.filter { $0.corruptions != nil }
        guard !evaluated.isEmpty else { return [] }
        let depth = evaluated.flatMap { $0.corruptions!.blocks.map(\.block) }.max() ?? 1
        var charts = [LineChart(title: "Mean corruption error against depth", xLabel: "block", yLabel: "error (%)",
                                series: evaluated.map { run in
                                    LineChart.Series(name: run.name, points: run.corruptions!.blocks.map { (Double($0.block), 100 * $0.meanError) })
                                }, xTicks: (1...depth).map { (Double($0), "B\($0)") }, markers: true).svg()]
        for run in evaluated {
            let result = run.corruptions!
            let kinds = Corruption.allCases.map(\.rawValue).filter { kind in result.blocks.contains { $0.corruptions[kind] != nil } }
            let extra = Set(result.blocks.flatMap(\.corruptions.keys)).subtracting(kinds).sorted()
            let categories = ["clean"] + kinds + extra + ["mean"]
            charts.append(BarChart(title: "\(run.name): error per corruption (mean over severities)", yLabel: "error (%)",
                                   categories: categories, series: result.blocks.map { block in
                                       BarChart.Series(name: "B\(block.block)", values: categories.map { category in
                                           switch category {
                                           case "clean": return 100 * block.cleanError
                                           case "mean": return 100 * block.meanError
                                           default:
                                               return block.corruptions[category].map { 100 * $0.reduce(0, +) / Double(max(1, $0.count)) }
                                           }
                                       })
                                   }).svg())
        }
        return charts
    }

    /// Every configuration key as a row, one column per run; rows where runs differ are marked.
    private func configTable() -> String? {
        let configured = runs.filter { $0.config != nil }
        guard !configured.isEmpty else { return nil }
        let keys = ConfigSchema.keys.map(\.path) + Set(configured.flatMap { $0.config!.keys }).subtracting(ConfigSchema.keys.map(\.path)).sorted()
        var html = "<table class=\"config\"><thead><tr><th>key</th>"
        html += configured.map { "<th>\(escapeHTML($0.name))</th>" }.joined() + "</tr></thead><tbody>\n"
        for key in keys {
            let values = configured.map { $0.config![key] ?? "" }
            let differs = Set(values).count > 1
            html += "<tr\(differs ? " class=\"differs\"" : "")><td>\(escapeHTML(key))</td>"
            html += values.map { "<td>\(escapeHTML($0))</td>" }.joined() + "</tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    static let css = """
    body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;color:#222;background:#fafafa}
    h1{font-size:26px;margin-bottom:4px}h2{font-size:19px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:30px}
    .meta{color:#555}.run{font-weight:600}.empty,.note{color:#8a5a00;background:#fff6e0;padding:8px 12px;border-radius:4px}
    .figures{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
    svg.chart{background:#fff;border:1px solid #e2e2e2;border-radius:4px;font-size:11px}
    .chart-title{font-size:13px;font-weight:600;fill:#222}.tick{fill:#555}.axis-label{fill:#333;font-size:12px}
    .axis{stroke:#888;stroke-width:1}.grid{stroke:#eee;stroke-width:1}.legend-text{fill:#333}
    table{border-collapse:collapse;background:#fff;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
    th{background:#f0f0f0}tr.differs td{background:#fff3cd;font-weight:600}code{background:#eee;padding:1px 4px;border-radius:3px}
    """
}
