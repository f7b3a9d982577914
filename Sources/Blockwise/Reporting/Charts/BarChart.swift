/// Grouped bars: one group per category, one bar per series in each group.
struct BarChart {
    struct Series {
        var name: String
        var values: [Double?]
    }

    var title: String
    var yLabel: String
    var categories: [String]
    var series: [Series]
    var yRange: ClosedRange<Double>? = nil

    func svg() -> String {
        let values = series.flatMap { $0.values.compactMap { $0 } }
        var frame = ChartFrame(x: 0...Double(max(1, categories.count)), y: yRange ?? 0...max(1e-9, (values.max() ?? 1) * 1.1),
                               width: max(560, 60 + 30 * Double(categories.count * max(1, series.count))))
        frame.bottom = 90
        let ticks = categories.enumerated().map { (Double($0.offset) + 0.5, $0.element) }
        var svg = frame.open(title: title, xLabel: "", yLabel: yLabel, xTicks: [])
        let groupWidth = frame.plotWidth / Double(max(1, categories.count))
        let barWidth = groupWidth * 0.8 / Double(max(1, series.count))
        for (seriesIndex, line) in series.enumerated() {
            for (index, value) in line.values.enumerated() {
                guard let value, index < categories.count else { continue }
                let x = frame.px(Double(index)) + groupWidth * 0.1 + Double(seriesIndex) * barWidth
                let top = frame.py(value), base = frame.py(frame.y.lowerBound)
                svg += "<rect class=\"bar\" x=\"\(f(x))\" y=\"\(f(top))\" width=\"\(f(barWidth))\" height=\"\(f(base - top))\" "
                    + "fill=\"\(chartColor(seriesIndex))\"><title>\(escapeHTML("\(line.name), \(categories[index]): \(label(value))"))</title></rect>\n"
            }
        }
        for (value, text) in ticks {
            let x = frame.px(value), y = frame.height - frame.bottom + 12
            svg += "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"end\" transform=\"rotate(-35 \(f(x)) \(f(y)))\" class=\"tick\">\(escapeHTML(text))</text>\n"
        }
        svg += frame.legend(series.enumerated().map { ($0.element.name, chartColor($0.offset)) })
        return svg + ChartFrame.close
    }
}
