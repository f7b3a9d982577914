import Torch

/// Both views of a batch cut from whole images while they are decoded (image folders), as
/// torchvision's RandomResizedCrop and RandomHorizontalFlip cut them from PIL images:
/// uint8 [B, 3, side, side] each. The colour steps are left for the training device.
public struct CroppedViews: Sendable {
    public var viewA: Tensor
    public var viewB: Tensor
    public var labels: Tensor
    /// Each view's boxes, in the pixels of each image at full size.
    public var boxesA: CropBoxes
    public var boxesB: CropBoxes
    /// Each image's full size (height, width), from its header.
    public var imageHeights: [Int]
    public var imageWidths: [Int]
    /// Each image's decoded size (height, width): smaller than the full size where libjpeg-turbo's
    /// DCT scaling could still give both boxes `side` pixels each way.
    public var decodedHeights: [Int]
    public var decodedWidths: [Int]
}

extension ImageDecoder.Pixels {
    /// The view of `box` (in the pixels of the full `fullHeight`×`fullWidth` image these pixels
    /// were decoded from, possibly smaller) resized to `side`×`side` with Pillow's bicubic
    /// filter and mirrored if `flip`: planar uint8 [3, side, side] at `output`.
    ///
    /// Decoded at full size, this is torchvision's crop then resize bit for bit: the filter
    /// reads only pixels inside the box. Decoded smaller, the box is mapped onto the smaller
    /// image, fractions kept (Pillow's `resize(box=)`).
    func cutView(top: Int, left: Int, height: Int, width: Int, fullHeight: Int, fullWidth: Int, side: Int, flip: Bool,
                 into output: UnsafeMutablePointer<UInt8>) {
        let rows: PillowAxis, columns: PillowAxis
        if self.width == fullWidth, self.height == fullHeight {
            rows = PillowAxis(size: height, start: 0, end: Double(height), output: side, filter: .bicubic, offset: top)
            columns = PillowAxis(size: width, start: 0, end: Double(width), output: side, filter: .bicubic, offset: left)
        } else {
            let sy = Double(self.height) / Double(fullHeight), sx = Double(self.width) / Double(fullWidth)
            rows = PillowAxis(size: self.height, start: Double(top) * sy, end: Double(top + height) * sy, output: side,
                              filter: .bicubic)
            columns = PillowAxis(size: self.width, start: Double(left) * sx, end: Double(left + width) * sx, output: side,
                                 filter: .bicubic)
        }
        rgb.withUnsafeBufferPointer { pixels in
            pillowResample(pixels.baseAddress!, pixelStride: 3, rowStride: 3 * self.width, rows: rows, columns: columns,
                           flip: flip, output: output)
        }
    }
}
