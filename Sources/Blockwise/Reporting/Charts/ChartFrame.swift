import Foundation

/// The frame shared by the report's SVG charts: size, margins, the mapping from data to
/// pixels, axes with ticks, title and legend. Charts are plain SVG text, inline in the page.
struct ChartFrame {
    var width = 560.0
    var height = 320.0
    var left = 60.0, right = 20.0, top = 52.0, bottom = 46.0
    var x: ClosedRange<Double>
    var y: ClosedRange<Double>

    init(x: ClosedRange<Double>, y: ClosedRange<Double>, width: Double = 560, height: Double = 320) {
        self.x = x.lowerBound == x.upperBound ? (x.lowerBound - 1)...(x.upperBound + 1) : x
        self.y = y.lowerBound == y.upperBound ? (y.lowerBound - 1)...(y.upperBound + 1) : y
        self.width = width
        self.height = height
    }

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }

    func px(_ value: Double) -> Double { left + (value - x.lowerBound) / (x.upperBound - x.lowerBound) * plotWidth }
    func py(_ value: Double) -> Double { top + (y.upperBound - value) / (y.upperBound - y.lowerBound) * plotHeight }

    /// The opening tag, title, grid, axes and tick labels; `xTicks` replaces numeric x ticks.
    func open(title: String, xLabel: String, yLabel: String, xTicks: [(Double, String)]? = nil) -> String {
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" class="chart" width="\(f(width))" height="\(f(height))" \
        viewBox="0 0 \(f(width)) \(f(height))" role="img" aria-label="\(escapeHTML(title))">
        <title>\(escapeHTML(title))</title>
        <rect x="0" y="0" width="\(f(width))" height="\(f(height))" fill="#ffffff"/>
        <text x="\(f(width / 2))" y="20" text-anchor="middle" class="chart-title">\(escapeHTML(title))</text>

        """
        for tick in niceTicks(y) {
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(py(tick)))\" y2=\"\(f(py(tick)))\" class=\"grid\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\" class=\"tick\">\(label(tick))</text>\n"
        }
        for (value, text) in xTicks ?? niceTicks(x).map({ ($0, label($0)) }) {
            svg += "<line x1=\"\(f(px(value)))\" x2=\"\(f(px(value)))\" y1=\"\(f(height - bottom))\" y2=\"\(f(height - bottom + 5))\" class=\"axis\"/>"
            svg += "<text x=\"\(f(px(value)))\" y=\"\(f(height - bottom + 18))\" text-anchor=\"middle\" class=\"tick\">\(escapeHTML(text))</text>\n"
        }
        svg += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(height - bottom))\" y2=\"\(f(height - bottom))\" class=\"axis\"/>"
        svg += "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" class=\"axis\"/>\n"
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" class=\"axis-label\">\(escapeHTML(xLabel))</text>"
        svg += "<text transform=\"translate(14 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">\(escapeHTML(yLabel))</text>\n"
        return svg
    }

    /// A legend in one row between the title and the plot, one coloured swatch per entry,
    /// so that it never hides data.
    func legend(_ entries: [(name: String, color: String)]) -> String {
        guard entries.count > 1 || entries.first.map({ !$0.name.isEmpty }) == true else { return "" }
        var svg = "<g class=\"legend\">"
        var lx = left
        for entry in entries {
            svg += "<rect x=\"\(f(lx))\" y=\"\(f(top - 19))\" width=\"10\" height=\"10\" fill=\"\(entry.color)\"/>"
            svg += "<text x=\"\(f(lx + 14))\" y=\"\(f(top - 10))\" class=\"legend-text\">\(escapeHTML(entry.name))</text>"
            lx += 30 + 6.5 * Double(entry.name.count)
        }
        return svg + "</g>\n"
    }

    static let close = "</svg>\n"
}

/// Colours of successive series (Tableau 10), distinguishable in print and for most colour vision.
let chartPalette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

func chartColor(_ index: Int) -> String { chartPalette[index % chartPalette.count] }

/// About five round tick values covering `range` (steps of 1, 2 or 5 times a power of ten).
func niceTicks(_ range: ClosedRange<Double>, count: Int = 5) -> [Double] {
    let span = range.upperBound - range.lowerBound
    guard span > 0, span.isFinite else { return [range.lowerBound] }
    let raw = span / Double(count)
    let magnitude = pow(10, (log10(raw)).rounded(.down))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    var ticks: [Double] = []
    var tick = (range.lowerBound / step).rounded(.up) * step
    while tick <= range.upperBound + step * 1e-9 {
        ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
        tick += step
    }
    return ticks
}

/// A range padded by `fraction` of its span on both sides.
func padded(_ range: ClosedRange<Double>, by fraction: Double = 0.05) -> ClosedRange<Double> {
    let pad = (range.upperBound - range.lowerBound) * fraction
    return (range.lowerBound - pad)...(range.upperBound + pad)
}

/// Numbers as tick labels: short, no trailing zeros, thousands as "k".
func label(_ value: Double) -> String {
    if abs(value) >= 10_000 { return String(format: "%gk", value / 1000) }
    return String(format: "%g", (value * 1e6).rounded() / 1e6)
}

/// Coordinates with two decimals: enough for a screen, short in the file.
func f(_ value: Double) -> String { String(format: "%.2f", value) }

/// Text made safe inside HTML/SVG elements and attributes.
func escapeHTML(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
