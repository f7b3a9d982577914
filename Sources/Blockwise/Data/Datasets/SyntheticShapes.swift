import Torch

/// Labelled images generated from a seed: five shapes and five textures in random colours,
/// positions and sizes, with a little pixel noise. Every class is left–right symmetric and
/// fills much of the image, so the Barlow Twins augmentations (crops, flips, colour changes)
/// keep an image's class. The embedded dataset when none is installed, and the tests' data.
///
/// The same (seed, count, size) gives the same images on every machine: the per-image
/// parameters come from `SplitMix64` and the noise from a seeded libtorch CPU generator.
public enum SyntheticShapes {
    /// The classes, in label order.
    public static let classNames = ["disk", "square", "triangle", "plus", "ring",
                                    "horizontal-stripes", "vertical-stripes", "checkerboard", "dots", "x-cross"]

    /// `count` RGB images of `size`×`size`. Train and test splits use different seeds.
    public static func make(count: Int, size: Int = 32, seed: UInt64 = 0, name: String = "synthetic:shapes") -> TensorImageSet {
        var random = SplitMix64(seed: seed, stream: 0x5348_4150_4553) // "SHAPES"
        let images = Tensor.empty([count, 3, size, size], dtype: .uint8)
        var labels = [Int](repeating: 0, count: count)
        let noise = Generator(seed: seed ^ 0xA5A5_A5A5)
        let chunk = 512
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            var p = Parameters(count: n)
            for i in 0..<n {
                let label = Int(random.next() % 10)
                labels[start + i] = label
                p.append(label: label, size: Double(size), random: &random)
            }
            let rendered = render(p, size: size, noise: noise)
            images.narrow(dim: 0, start: start, length: n).copy_(rendered)
            start += n
        }
        // The labels are in range by construction.
        return try! TensorImageSet(name: name, images: images, labels: Tensor(labels), classCount: 10,
                                   statistics: ChannelStatistics(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]))
    }

    /// The per-image drawing parameters of one chunk, as columns.
    struct Parameters {
        var label: [Int] = [], cx: [Float] = [], cy: [Float] = [], radius: [Float] = []
        var period: [Float] = [], phaseX: [Float] = [], phaseY: [Float] = []
        var foreground: [Float] = [], background: [Float] = []

        init(count: Int) {}

        mutating func append(label: Int, size: Double, random: inout SplitMix64) {
            self.label.append(label)
            cx.append(Float(size * random.uniform(0.4, 0.6)))
            cy.append(Float(size * random.uniform(0.4, 0.6)))
            radius.append(Float(size * random.uniform(0.25, 0.4)))
            period.append(Float(size * random.uniform(0.12, 0.22)))
            phaseX.append(Float(size * random.uniform()))
            phaseY.append(Float(size * random.uniform()))
            // Colours far apart in brightness, so jitter and grayscale keep the pattern visible.
            let dark = (0..<3).map { _ in Float(random.uniform(0.0, 0.35)) }
            let light = (0..<3).map { _ in Float(random.uniform(0.65, 1.0)) }
            let swap = random.next() & 1 == 1
            foreground += swap ? dark : light
            background += swap ? light : dark
        }
    }

    /// Draws the chunk with batched tensor ops: every class's mask is computed for every
    /// image and the image's own class is selected.
    static func render(_ p: Parameters, size: Int, noise: Generator) -> Tensor {
        let n = p.label.count
        func column(_ values: [Float]) -> Tensor { Tensor(values, shape: [n, 1, 1]) }
        let coordinates = Tensor.arange(0, .int(size), dtype: .float32) + 0.5
        let x = coordinates.view([1, 1, size]), y = coordinates.view([1, size, 1])
        let u = x - column(p.cx), v = y - column(p.cy), r = column(p.radius)
        let au = u.abs(), av = v.abs()
        let distance = (u * u + v * v).sqrt()
        let period = column(p.period)
        let px = x + column(p.phaseX), py = y + column(p.phaseY)
        func odd(_ t: Tensor) -> Tensor { (t / period).floor().remainder(Tensor(2.0)) .>= 1.0 }
        let masks: [Tensor] = [
            distance .<= r,
            au.maximum(av) .<= r * 0.8,
            (v .>= -r).logicalAnd(v .<= r * 0.8).logicalAnd(au .<= (v + r) * 0.65),
            (au .<= r * 0.3).logicalAnd(av .<= r).logicalOr((av .<= r * 0.3).logicalAnd(au .<= r)),
            (distance .<= r).logicalAnd(distance .>= r * 0.55),
            odd(py).expand([n, size, size]),
            odd(px).expand([n, size, size]),
            odd(px).logicalXor(odd(py)),
            { () -> Tensor in
                let dx = px.remainder(period) - period * 0.5, dy = py.remainder(period) - period * 0.5
                return (dx * dx + dy * dy) .<= (period * 0.3).square()
            }(),
            ((au - av).abs() .<= r * 0.25).logicalAnd(au.maximum(av) .<= r),
        ]
        let label = Tensor(p.label, shape: [n, 1, 1])
        var mask = Tensor.zeros([n, size, size], dtype: .bool)
        for (c, classMask) in masks.enumerated() {
            mask = `where`(label .== Scalar.int(c), classMask.expand([n, size, size]), mask)
        }
        let m = mask.unsqueeze(1).to(.float32)
        let foreground = Tensor(p.foreground, shape: [n, 3, 1, 1]), background = Tensor(p.background, shape: [n, 3, 1, 1])
        let image = m * foreground + (1.0 - m) * background + Tensor.randn([n, 3, size, size], generator: noise) * 0.03
        return (image * 255.0).round().clamp(min: 0, max: 255).to(.uint8)
    }
}
