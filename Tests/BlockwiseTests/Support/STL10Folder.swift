import Foundation

/// A folder holding `stl10_binary` in STL-10's binary layout (train_X/train_y, test_X/test_y,
/// unlabeled_X; 3×96×96 bytes per image), with `labels` (1…10) for the training images, two
/// test images and `unlabeled` unlabelled ones. Pixels are pseudo-random bytes drawn from `seed`.
func stl10Folder(labels: [UInt8], unlabeled: Int, seed: UInt64 = 1) -> TemporaryFolder {
    let folder = TemporaryFolder()
    var state = seed
    func images(_ count: Int) -> [UInt8] {
        (0..<(count * 3 * 96 * 96)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }
    folder.write("stl10_binary/train_X.bin", images(labels.count))
    folder.write("stl10_binary/train_y.bin", labels)
    folder.write("stl10_binary/test_X.bin", images(2))
    folder.write("stl10_binary/test_y.bin", [3, 7])
    folder.write("stl10_binary/unlabeled_X.bin", images(unlabeled))
    return folder
}
