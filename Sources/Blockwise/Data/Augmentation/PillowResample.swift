import CImaging

/// Pillow's `Image.resize` for 8-bit RGB (libImaging/Resample.c, Pillow 9), the resampling
/// torchvision's RandomResizedCrop and Resize run on PIL images: separable filters whose
/// weights are rounded to 22-bit fixed point, a horizontal pass to 8 bits, then a vertical one.
/// Done here on decoded bytes, in the decoding worker, so a view costs no libtorch call; the
/// fixed-point arithmetic is Pillow's own, so a view equals torchvision's bit for bit.
enum PillowFilter: Sendable {
    /// Keys' cubic with a = −0.5 (`Image.BICUBIC`, Barlow Twins' crops).
    case bicubic
    /// The triangle (`Image.BILINEAR`, torchvision's default for PIL images).
    case bilinear

    var support: Double {
        switch self {
        case .bicubic: return 2
        case .bilinear: return 1
        }
    }

    func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .bilinear:
            return x < 1 ? 1 - x : 0
        }
    }
}

/// One axis of a resize: for each output pixel, the first source pixel it reads, how many it
/// reads, and their weights in fixed point (Pillow's `precompute_coeffs` and
/// `normalize_coeffs_8bpc`).
struct PillowAxis: Sendable {
    static let precisionBits: Int32 = 22
    /// Weights per output pixel (the longest filter).
    let taps: Int
    let first: [Int]
    let count: [Int]
    let weights: [Int32]

    /// Maps source positions `start`..<`end` (pixels of a source `size` long, possibly
    /// fractional) onto `output` pixels; `offset` is added to every source index, so a crop can
    /// be read in place from the whole image (`size` is then the crop's length, as when
    /// torchvision crops first: the filter never reads outside the crop).
    init(size: Int, start: Double, end: Double, output: Int, filter: PillowFilter, offset: Int = 0) {
        let scale = (end - start) / Double(output)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](repeating: 0, count: output), count = [Int](repeating: 0, count: output)
        var weights = [Int32](repeating: 0, count: output * taps)
        var k = [Double](repeating: 0, count: taps)
        // Pillow multiplies by the reciprocal; dividing could differ in the last bit.
        let inverseScale = 1 / filterScale
        for xx in 0..<output {
            let center = start + (Double(xx) + 0.5) * scale
            // C's (int) truncates toward zero; both bounds are clamped into the source.
            let low = max(0, Int(center - support + 0.5))
            let high = min(size, Int(center + support + 0.5))
            var total = 0.0
            for x in 0..<max(0, high - low) {
                k[x] = filter.weight((Double(x + low) - center + 0.5) * inverseScale)
                total += k[x]
            }
            for x in 0..<max(0, high - low) {
                let w = total != 0 ? k[x] / total : k[x]
                let fixed = w * Double(1 << Self.precisionBits)
                weights[xx * taps + x] = Int32(w < 0 ? fixed - 0.5 : fixed + 0.5)
            }
            first[xx] = low + offset
            count[xx] = max(0, high - low)
        }
        self.taps = taps
        self.first = first
        self.count = count
        self.weights = weights
    }

    /// The half-unit Pillow starts each sum with, so the final shift rounds.
    static let rounding: Int32 = 1 << (precisionBits - 1)

    /// Output pixel `index` for `length` lines at once: `out[i · outStride]` = Pillow's `clip8`
    /// of rounding + Σ weight · line[i] over the source lines it reads, the first of them at
    /// `firstLine` and the next ones `lineStride` bytes apart. In C (`ci_resample_line`), built
    /// for AVX2 where the CPU has it: `sums` is scratch for `length` values.
    @inline(__always)
    func resample(output index: Int, firstLine: UnsafePointer<UInt8>, lineStride: Int, length: Int,
                  sums: UnsafeMutablePointer<Int32>, into out: UnsafeMutablePointer<UInt8>, outStride: Int) {
        weights.withUnsafeBufferPointer { weights in
            ci_resample_line(firstLine, Int64(lineStride), weights.baseAddress! + index * taps, Int64(count[index]),
                             Int64(length), Self.rounding, Self.precisionBits, sums, out, Int64(outStride))
        }
    }
}

/// Resamples part of an interleaved RGB image (`pixelStride` bytes per pixel, `rowStride` per
/// row) to `columns.count`-wide, `rows.count`-high planar RGB at `output` ([3, H, W] bytes),
/// mirrored left to right when `flip` is set (torchvision's flip after the crop). `rows` and
/// `columns` say which source pixels each output pixel reads.
func pillowResample(_ source: UnsafePointer<UInt8>, pixelStride: Int, rowStride: Int, rows: PillowAxis, columns: PillowAxis,
                    flip: Bool, output: UnsafeMutablePointer<UInt8>) {
    let outHeight = rows.first.count, outWidth = columns.first.count
    // The horizontal pass covers only the source rows the vertical pass will read.
    let firstRow = rows.first[0]
    let lastRow = (0..<outHeight).map { rows.first[$0] + rows.count[$0] }.max() ?? firstRow
    let middleRows = max(0, lastRow - firstRow)
    let plane = middleRows * outWidth
    let middle = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, 3 * plane))
    defer { middle.deallocate() }
    // The horizontal pass runs as a vertical one on the transposed crop: for each output
    // column, whole source columns (one value per row) are weighted and added, a loop over
    // rows that the compiler vectorises, where a loop over taps per pixel stays scalar. The
    // integer sums are the same, so the bytes are Pillow's.
    let firstColumn = columns.first.min() ?? 0
    let lastColumn = zip(columns.first, columns.count).map { $0 + $1 }.max() ?? firstColumn
    let width = max(0, lastColumn - firstColumn)
    let transposed = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, 3 * width * middleRows))
    defer { transposed.deallocate() }
    ci_transpose_planes(source + firstRow * rowStride + firstColumn * pixelStride, Int64(pixelStride), Int64(rowStride),
                        Int64(middleRows), Int64(width), transposed)
    // Each output column is written whole, then the columns are transposed back into rows:
    // written straight into rows, a byte a row apart, the stores took 40% of the pass.
    let columnSums = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, middleRows))
    defer { columnSums.deallocate() }
    let middleColumns = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, plane))
    defer { middleColumns.deallocate() }
    for channel in 0..<3 {
        let input = transposed + channel * width * middleRows
        for xx in 0..<outWidth {
            let at = flip ? outWidth - 1 - xx : xx
            columns.resample(output: xx, firstLine: input + (columns.first[xx] - firstColumn) * middleRows, lineStride: middleRows,
                             length: middleRows, sums: columnSums, into: middleColumns + at * middleRows, outStride: 1)
        }
        ci_transpose_bytes(middleColumns, Int64(outWidth), Int64(middleRows), middle + channel * plane)
    }
    // The vertical pass adds whole rows.
    let sums = UnsafeMutablePointer<Int32>.allocate(capacity: outWidth)
    defer { sums.deallocate() }
    for channel in 0..<3 {
        let input = middle + channel * plane
        let out = output + channel * outHeight * outWidth
        for yy in 0..<outHeight {
            rows.resample(output: yy, firstLine: input + (rows.first[yy] - firstRow) * outWidth, lineStride: outWidth,
                          length: outWidth, sums: sums, into: out + yy * outWidth, outStride: 1)
        }
    }
}
