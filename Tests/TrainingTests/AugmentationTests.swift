import IR
import Testing
@testable import Training

@Suite("Augmentation")
struct AugmentationTests {
    // Channel 0: 1 2 3 / 4 5 6; channel 1: the same plus 10.
    let image = Tensor(shape: [1, 2, 2, 3], data: [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16])

    @Test("Flip, shift and fill, by hand")
    func transforms() {
        #expect(Augmentation.transform(image, flip: false, dy: 0, dx: 0, fill: [9, 9]) == image)
        #expect(Augmentation.transform(image, flip: true, dy: 0, dx: 0, fill: [9, 9]).data
                == [3, 2, 1, 6, 5, 4, 13, 12, 11, 16, 15, 14])
        // The window moves one right: out[y][x] = in[y][x + 1], the last column filled.
        #expect(Augmentation.transform(image, flip: false, dy: 0, dx: 1, fill: [-1, -2]).data
                == [2, 3, -1, 5, 6, -1, 12, 13, -2, 15, 16, -2])
        // One down: out[y][x] = in[y + 1][x].
        #expect(Augmentation.transform(image, flip: false, dy: 1, dx: 0, fill: [0, 0]).data
                == [4, 5, 6, 0, 0, 0, 14, 15, 16, 0, 0, 0])
        // Flipped, then the window one left: out[y][x] = flipped[y][x − 1].
        #expect(Augmentation.transform(image, flip: true, dy: 0, dx: -1, fill: [7, 8]).data
                == [7, 3, 2, 7, 6, 5, 8, 13, 12, 8, 16, 15])
    }

    @Test("The originals come first, then the copies; the same seed gives the same copies")
    func copies() {
        let inputs = [image, Tensor(shape: image.shape, data: image.data.map { -$0 })]
        let a = Augmentation(copies: 3, shift: 1, seed: 5).apply(inputs, fill: [0, 0])
        #expect(a.count == 8)
        #expect(Array(a[0..<2]) == inputs)
        #expect(a == Augmentation(copies: 3, shift: 1, seed: 5).apply(inputs, fill: [0, 0]))
        #expect(a != Augmentation(copies: 3, shift: 1, seed: 6).apply(inputs, fill: [0, 0]))
        #expect(Augmentation(copies: 0).apply(inputs, fill: []) == inputs)
    }
}
