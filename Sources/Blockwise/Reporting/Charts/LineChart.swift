/// Lines of (x, y) points, one per series: training curves, and accuracy against depth
/// (with `markers` and named x ticks, as the paper's Fig. 4 right).
struct LineChart {
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        /// Half-lengths of error bars at the points (a standard deviation over seeds), if any.
        var errors: [Double]? = nil
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    var xTicks: [(Double, String)]? = nil
    var markers = false
    /// Fixed y range (e.g. 0…1 for accuracies); by default the data's, padded.
    var yRange: ClosedRange<Double>? = nil

    func svg() -> String {
        let points = series.flatMap(\.points)
        let xs = points.map(\.x), ys = points.map(\.y)
        let xRange = xTicks.map { ticks in padded((ticks.map(\.0).min() ?? 0)...(ticks.map(\.0).max() ?? 1), by: 0.08) }
            ?? ((xs.min() ?? 0)...(xs.max() ?? 1))
        let frame = ChartFrame(x: xRange, y: yRange ?? padded((ys.min() ?? 0)...(ys.max() ?? 1)))
        var svg = frame.open(title: title, xLabel: xLabel, yLabel: yLabel, xTicks: xTicks)
        for (index, line) in series.enumerated() where !line.points.isEmpty {
            let color = chartColor(index)
            let path = line.points.map { "\(f(frame.px($0.x))),\(f(frame.py($0.y)))" }.joined(separator: " ")
            svg += "<polyline class=\"series\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            for (point, error) in zip(line.points, line.errors ?? []) where error > 0 {
                let (x, low, high) = (f(frame.px(point.x)), f(frame.py(point.y - error)), f(frame.py(point.y + error)))
                svg += "<path class=\"error-bar\" stroke=\"\(color)\" d=\"M\(x) \(low)V\(high)\"/>"
            }
            if markers || line.points.count == 1 {
                for point in line.points {
                    svg += "<circle cx=\"\(f(frame.px(point.x)))\" cy=\"\(f(frame.py(point.y)))\" r=\"4\" fill=\"\(color)\"/>"
                }
                svg += "\n"
            }
        }
        svg += frame.legend(series.enumerated().map { ($0.element.name, chartColor($0.offset)) })
        return svg + ChartFrame.close
    }
}
