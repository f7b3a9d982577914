import Foundation

/// ImageNet-C's defocus kernel (`disk` in imagenet_c/corruptions.py): the pixels of a square
/// grid within `radius` of the centre, normalised to sum 1, then anti-aliased by OpenCV's
/// `GaussianBlur` (a `antialiasSize`² Gaussian of σ `aliasBlur`, borders BORDER_REFLECT_101).
enum DefocusKernel {
    /// The grid reaches `max(radius, border)` pixels from the centre, rounded up: ImageNet-C
    /// uses a border of 8 for radii up to 8 and the radius itself above.
    static func disk(radius: Double, aliasBlur: Double, border: Double, antialiasSize: Int) -> [[Double]] {
        let half = Int(max(radius, border).rounded(.up))
        let n = 2 * half + 1
        var aliased = (0..<n).map { i in
            (0..<n).map { j -> Double in
                let (y, x) = (Double(i - half), Double(j - half))
                return x * x + y * y <= radius * radius ? 1 : 0
            }
        }
        let total = aliased.joined().reduce(0, +)
        aliased = aliased.map { $0.map { $0 / total } }
        return gaussianBlurReflect101(aliased, size: antialiasSize, sigma: aliasBlur)
    }

    /// OpenCV's `getGaussianKernel(size, sigma)`: exp(−(i − (size−1)/2)² / 2σ²), normalised.
    static func gaussianTaps(size: Int, sigma: Double) -> [Double] {
        let centre = Double(size - 1) / 2
        let taps = (0..<size).map { exp(-(Double($0) - centre) * (Double($0) - centre) / (2 * sigma * sigma)) }
        let total = taps.reduce(0, +)
        return taps.map { $0 / total }
    }

    /// A separable Gaussian blur of a small matrix, outside indices mirrored without
    /// repeating the edge (OpenCV's default border, BORDER_REFLECT_101: d c b | a b c d | c b a).
    static func gaussianBlurReflect101(_ m: [[Double]], size: Int, sigma: Double) -> [[Double]] {
        let taps = gaussianTaps(size: size, sigma: sigma)
        let n = m.count, half = size / 2
        func mirror(_ i: Int) -> Int {
            guard n > 1 else { return 0 }
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -i : 2 * n - 2 - i }
            return i
        }
        let rows = m.map { row in (0..<n).map { j in (0..<size).reduce(0.0) { $0 + taps[$1] * row[mirror(j + $1 - half)] } } }
        return (0..<n).map { i in (0..<n).map { j in (0..<size).reduce(0.0) { $0 + taps[$1] * rows[mirror(i + $1 - half)][j] } } }
    }
}
