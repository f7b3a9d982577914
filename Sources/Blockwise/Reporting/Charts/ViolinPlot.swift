import Foundation

/// Violin plots of distributions, grouped as the paper's Fig. 8: one group per block, one
/// violin per run inside it. A violin's width follows the histogram's counts (or, without
/// a histogram, the density implied by the quantiles); a white bar marks the median and a
/// black tick the mean.
struct ViolinPlot {
    struct Violin {
        var series: Int
        var summary: DistributionSummary
    }

    struct Group {
        var label: String
        var violins: [Violin]
    }

    var title: String
    var yLabel: String
    var seriesNames: [String]
    var groups: [Group]

    func svg() -> String {
        let extent = groups.flatMap { $0.violins.flatMap { Self.profile($0.summary).map(\.value) } }
        let frame = ChartFrame(x: 0...Double(max(1, groups.count)), y: padded((extent.min() ?? -1)...(extent.max() ?? 1)))
        let ticks = groups.enumerated().map { (Double($0.offset) + 0.5, $0.element.label) }
        var svg = frame.open(title: title, xLabel: "", yLabel: yLabel, xTicks: ticks)
        let slot = frame.plotWidth / Double(max(1, groups.count)) * 0.8 / Double(max(1, seriesNames.count))
        for (groupIndex, group) in groups.enumerated() {
            for violin in group.violins {
                let centre = frame.px(Double(groupIndex)) + frame.plotWidth / Double(max(1, groups.count)) * 0.1
                    + (Double(violin.series) + 0.5) * slot
                svg += shape(violin, centre: centre, halfWidth: slot * 0.45, frame: frame)
            }
        }
        svg += frame.legend(seriesNames.enumerated().map { ($0.element, chartColor($0.offset)) })
        return svg + ChartFrame.close
    }

    private func shape(_ violin: Violin, centre: Double, halfWidth: Double, frame: ChartFrame) -> String {
        let profile = Self.profile(violin.summary)
        guard let peak = profile.map(\.density).max(), peak > 0 else { return "" }
        let right = profile.map { "\(f(centre + $0.density / peak * halfWidth)),\(f(frame.py($0.value)))" }
        let left = profile.reversed().map { "\(f(centre - $0.density / peak * halfWidth)),\(f(frame.py($0.value)))" }
        let color = chartColor(violin.series)
        var svg = "<polygon class=\"violin\" fill=\"\(color)\" fill-opacity=\"0.75\" stroke=\"\(color)\" points=\"\((right + left).joined(separator: " "))\">"
        svg += "<title>\(escapeHTML(String(format: "mean %.4f, median %.4f", violin.summary.mean, violin.summary.quantile(0.5) ?? .nan)))</title></polygon>"
        if let median = violin.summary.quantile(0.5) {
            svg += "<line x1=\"\(f(centre - halfWidth * 0.35))\" x2=\"\(f(centre + halfWidth * 0.35))\" y1=\"\(f(frame.py(median)))\" y2=\"\(f(frame.py(median)))\" stroke=\"#ffffff\" stroke-width=\"2\"/>"
        }
        svg += "<line x1=\"\(f(centre - halfWidth * 0.2))\" x2=\"\(f(centre + halfWidth * 0.2))\" y1=\"\(f(frame.py(violin.summary.mean)))\" y2=\"\(f(frame.py(violin.summary.mean)))\" stroke=\"#000000\" stroke-width=\"1.5\"/>\n"
        return svg
    }

    /// (value, density) pairs from low to high values, over the occupied part of the histogram,
    /// lightly smoothed; from the quantiles when there is no histogram (the mass between two
    /// successive levels spread evenly between their values).
    static func profile(_ summary: DistributionSummary) -> [(value: Double, density: Double)] {
        if let histogram = summary.histogram, let first = histogram.counts.firstIndex(where: { $0 > 0 }),
           let last = histogram.counts.lastIndex(where: { $0 > 0 }) {
            let width = (histogram.upper - histogram.lower) / Double(histogram.counts.count)
            let counts = histogram.counts.map(Double.init)
            let smoothed = counts.indices.map { i in
                (0.25 * counts[max(0, i - 1)] + 0.5 * counts[i] + 0.25 * counts[min(counts.count - 1, i + 1)])
            }
            let low = max(0, first - 1), high = min(counts.count - 1, last + 1)
            return (low...high).map { (histogram.lower + (Double($0) + 0.5) * width, smoothed[$0]) }
        }
        let levels = DistributionSummary.levels.compactMap { level in summary.quantile(level).map { (level, $0) } }
        guard levels.count > 1 else { return [(summary.mean, 1)] }
        var profile: [(value: Double, density: Double)] = []
        for (a, b) in zip(levels, levels.dropFirst()) {
            let density = (b.0 - a.0) / max(b.1 - a.1, 1e-9)
            profile.append((a.1, density))
            profile.append((b.1, density))
        }
        return profile
    }
}
