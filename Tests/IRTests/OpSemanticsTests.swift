import Testing
import IR

// Reference semantics of every op, checked against values worked out by hand (in the comments),
// not against the implementation. Most cases run end to end (text → verifier → weight binder →
// interpreter, see OpTestSupport.evaluate); cases a graph cannot express (batch N > 1) call the
// op's `evaluate` directly.
//
// Tolerance: OpTestSupport.expectClose, 1e-6 relative + 1e-7 absolute, unless stated. Integer-
// valued results are exact in float32 and well inside it.

private typealias S = OpTestSupport

@Suite
struct OpSemanticsTests {
    // The 3x3 input used by most conv/pool cases:
    //   1 2 3
    //   4 5 6
    //   7 8 9
    static let x33 = S.iota([1, 1, 3, 3])

    // MARK: conv2d

    @Test func convBasicNoBias() throws {
        // W = [[1,2],[3,4]], valid 2x2 windows:
        // (0,0) 1·1+2·2+4·3+5·4 = 37   (0,1) 2+6+15+24 = 47
        // (1,0) 4+10+21+32 = 67        (1,1) 5+12+24+36 = 77
        let y = try S.evaluate("y = conv2d(x, out=1, kernel=2, bias=false)", input: Self.x33,
                               weights: ["y.weight": S.t([1, 1, 2, 2], [1, 2, 3, 4])])
        S.expectClose(y, shape: [1, 1, 2, 2], [37, 47, 67, 77])
    }

    @Test func convBias() throws {
        // Same as above plus bias 0.5 on every output.
        let y = try S.evaluate("y = conv2d(x, out=1, kernel=2)", input: Self.x33,
                               weights: ["y.weight": S.t([1, 1, 2, 2], [1, 2, 3, 4]), "y.bias": S.t([1], [0.5])])
        S.expectClose(y, shape: [1, 1, 2, 2], [37.5, 47.5, 67.5, 77.5])
    }

    @Test func convZeroPaddingSame() throws {
        // 3x3 all-ones kernel, pad 1: each output is the sum of the in-bounds 3x3 neighbourhood,
        // the padding contributing 0:
        // (0,0) 1+2+4+5 = 12      (0,1) 1+2+3+4+5+6 = 21     (0,2) 2+3+5+6 = 16
        // (1,0) 1+2+4+5+7+8 = 27  (1,1) 45                   (1,2) 2+3+5+6+8+9 = 33
        // (2,0) 4+5+7+8 = 24      (2,1) 4+5+6+7+8+9 = 39     (2,2) 5+6+8+9 = 28
        let y = try S.evaluate("y = conv2d(x, out=1, kernel=3, pad=1, bias=false)", input: Self.x33,
                               weights: ["y.weight": Tensor(shape: [1, 1, 3, 3], data: Array(repeating: 1, count: 9))])
        S.expectClose(y, shape: [1, 1, 3, 3], [12, 21, 16, 27, 45, 33, 24, 39, 28])
    }

    @Test func convStrideAndPadding() throws {
        // kernel 2, stride 2, pad 1 on 3x3: H' = ⌊(3 + 2 − 2)/2⌋ + 1 = 2 (ceil would give 3).
        // Padded input (5x5) with windows at padded (0,0), (0,2), (2,0), (2,2), W = [[1,2],[3,4]]:
        //   0 0 0 0 0
        //   0 1 2 3 0     (0,0): [[0,0],[0,1]] → 1·4 = 4
        //   0 4 5 6 0     (0,2): [[0,0],[2,3]] → 2·3 + 3·4 = 18
        //   0 7 8 9 0     (2,0): [[0,4],[0,7]] → 4·2 + 7·4 = 36
        //   0 0 0 0 0     (2,2): [[5,6],[8,9]] → 5 + 12 + 24 + 36 = 77
        let y = try S.evaluate("y = conv2d(x, out=1, kernel=2, stride=2, pad=1, bias=false)", input: Self.x33,
                               weights: ["y.weight": S.t([1, 1, 2, 2], [1, 2, 3, 4])])
        S.expectClose(y, shape: [1, 1, 2, 2], [4, 18, 36, 77])
    }

    @Test func convDilation() throws {
        // kernel 2, dilation 2: taps x[0,0], x[0,2], x[2,0], x[2,2] = 1, 3, 7, 9;
        // W = [1,2,3,4] → 1 + 6 + 21 + 36 = 64. Span 3, so the output is 1x1.
        let w = S.t([1, 1, 2, 2], [1, 2, 3, 4])
        let y = try S.evaluate("y = conv2d(x, out=1, kernel=2, dilation=2, bias=false)", input: Self.x33,
                               weights: ["y.weight": w])
        S.expectClose(y, shape: [1, 1, 1, 1], [64])

        // dilation [1, 2]: rows oy, oy+1 and columns 0, 2; output [1,1,2,1].
        // oy=0: 1·1 + 3·2 + 4·3 + 6·4 = 1 + 6 + 12 + 24 = 43
        // oy=1: 4·1 + 6·2 + 7·3 + 9·4 = 4 + 12 + 21 + 36 = 73
        let z = try S.evaluate("y = conv2d(x, out=1, kernel=2, dilation=[1, 2], bias=false)", input: Self.x33,
                               weights: ["y.weight": w])
        S.expectClose(z, shape: [1, 1, 2, 1], [43, 73])
    }

    @Test func convNonSquareKernelAndFusedReLU() throws {
        // kernel [1,3], pad [0,1], W = [1, 0, −1]: y[i,j] = x[i,j−1] − x[i,j+1], zeros outside.
        // row [1,2,3] → [0−2, 1−3, 2−0] = [−2, −2, 2]
        // row [4,5,6] → [−5, −2, 5];  row [7,8,9] → [−8, −2, 8]
        let w = S.t([1, 1, 1, 3], [1, 0, -1])
        let y = try S.evaluate("y = conv2d(x, out=1, kernel=[1, 3], pad=[0, 1], bias=false)", input: Self.x33,
                               weights: ["y.weight": w])
        S.expectClose(y, shape: [1, 1, 3, 3], [-2, -2, 2, -5, -2, 5, -8, -2, 8])

        // relu=true clamps the negatives to 0 after the bias: bias −2 → [−4,−4,0, −7,−4,3, −10,−4,6] → relu.
        let r = try S.evaluate("y = conv2d(x, out=1, kernel=[1, 3], pad=[0, 1], relu=true)", input: Self.x33,
                               weights: ["y.weight": w, "y.bias": S.t([1], [-2])])
        S.expectClose(r, shape: [1, 1, 3, 3], [0, 0, 0, 0, 0, 3, 0, 0, 6])

        // kernel [3,1] (the transpose): column-wise difference x[i−1,j] − x[i+1,j], pad [1,0].
        // col [1,4,7] → [−4, −6, 4]; col [2,5,8] → [−5, −6, 5]; col [3,6,9] → [−6, −6, 6]
        let c = try S.evaluate("y = conv2d(x, out=1, kernel=[3, 1], pad=[1, 0], bias=false)", input: Self.x33,
                               weights: ["y.weight": S.t([1, 1, 3, 1], [1, 0, -1])])
        S.expectClose(c, shape: [1, 1, 3, 3], [-4, -5, -6, -6, -6, -6, 4, 5, 6])
    }

    @Test func convMultiChannel() throws {
        // 2 input channels (1..4 and 5..8, 2x2 each), 2 outputs, kernel 2 (one output pixel).
        // out0: W = [1,1,1,1 | 0,0,0,0] → 1+2+3+4 = 10, bias 1 → 11
        // out1: W = [0,0,0,0 | 1,0,0,−1] → 5 − 8 = −3, bias −1 → −4
        let y = try S.evaluate("y = conv2d(x, out=2, kernel=2)", input: S.iota([1, 2, 2, 2]),
                               weights: ["y.weight": S.t([2, 2, 2, 2], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, -1]),
                                         "y.bias": S.t([2], [1, -1])])
        S.expectClose(y, shape: [1, 2, 1, 1], [11, -4])
    }

    @Test func convGroups() throws {
        // x = [1,2,3,4] over 4 channels (1x1), groups 2, out 4, kernel 1: weight [4, 2, 1, 1].
        // Outputs 0,1 read channels 0,1; outputs 2,3 read channels 2,3.
        // o0 = 10·1 + 100·2 = 210;  o1 = 1·1 − 1·2 = −1
        // o2 = 1000·3 + 10000·4 = 43000;  o3 = −1·3 + 1·4 = 1
        let y = try S.evaluate("y = conv2d(x, out=4, kernel=1, groups=2, bias=false)", input: S.iota([1, 4, 1, 1]),
                               weights: ["y.weight": S.t([4, 2, 1, 1], [10, 100, 1, -1, 1000, 10000, -1, 1])])
        S.expectClose(y, shape: [1, 4, 1, 1], [210, -1, 43000, 1])
    }

    @Test func convDepthwise() throws {
        // groups = C = out = 2, kernel 2 on 2x2 planes [1,2,3,4] and [5,6,7,8]; weight [2,1,2,2].
        // ch0: W = [1,1,1,1] → 10, bias 0.5 → 10.5
        // ch1: W = [1,0,0,−1] → 5 − 8 = −3, bias −0.5 → −3.5
        let y = try S.evaluate("y = conv2d(x, out=2, kernel=2, groups=2)", input: S.iota([1, 2, 2, 2]),
                               weights: ["y.weight": S.t([2, 1, 2, 2], [1, 1, 1, 1, 1, 0, 0, -1]),
                                         "y.bias": S.t([2], [0.5, -0.5])])
        S.expectClose(y, shape: [1, 2, 1, 1], [10.5, -3.5])
    }

    @Test func convAccumulatesInFloat64() throws {
        // 1e8 + 1 − 1e8: float32 accumulation gives 0 (1e8 + 1 rounds back to 1e8, the float32
        // spacing there is 8); float64 gives exactly 1. 1e8 is exact in float32.
        let big: Float = 1e8
        let y = try S.evaluate("y = conv2d(x, out=1, kernel=[1, 3], bias=false)", input: S.t([1, 1, 1, 3], [big, 1, -big]),
                               weights: ["y.weight": S.t([1, 1, 1, 3], [1, 1, 1])])
        #expect(y.data == [1])
        // Same across channels (the channel loop accumulates into the same sum).
        let c = try S.evaluate("y = conv2d(x, out=1, kernel=1, bias=false)", input: S.t([1, 3, 1, 1], [big, 1, -big]),
                               weights: ["y.weight": S.t([1, 3, 1, 1], [1, 1, 1])])
        #expect(c.data == [1])
        // And with the bias as the first term: 1e8 + 1 + (−1e8) = 1.
        let b = try S.evaluate("y = conv2d(x, out=1, kernel=[1, 2])", input: S.t([1, 1, 1, 2], [1, -big]),
                               weights: ["y.weight": S.t([1, 1, 1, 2], [1, 1]), "y.bias": S.t([1], [big])])
        #expect(b.data == [1])
    }

    @Test func convBatchOfTwo() throws {
        // N = 2 (direct call): each sample convolved on its own. 1x1 kernel, W = 2, bias 1.
        // sample 0 [1,2] → [3,5]; sample 1 [3,4] → [7,9]
        let y = try S.direct(.conv2d, [S.iota([2, 1, 1, 2])], ["out": .int(1), "kernel": .int(1)],
                             parameters: [S.t([1, 1, 1, 1], [2]), S.t([1], [1])])
        S.expectClose(y, shape: [2, 1, 1, 2], [3, 5, 7, 9])
    }

    // MARK: batchnorm

    @Test func batchnormPerChannelWithEps() throws {
        // x: ch0 = [3, 5], ch1 = [0, 2]; eps 0.25 so that √(var + eps) is 2 and 1.
        // ch0: w 3, b 1, mean 1, var 3.75 → (x − 1)/2·3 + 1: 3 → 4, 5 → 7
        // ch1: w −1, b 0.5, mean 1, var 0.75 → (x − 1)/1·(−1) + 0.5: 0 → 1.5, 2 → −0.5
        let y = try S.evaluate("y = batchnorm(x, eps=0.25)", input: S.t([1, 2, 1, 2], [3, 5, 0, 2]), weights: [
            "y.weight": S.t([2], [3, -1]), "y.bias": S.t([2], [1, 0.5]),
            "y.running_mean": S.t([2], [1, 1]), "y.running_var": S.t([2], [3.75, 0.75]),
        ])
        S.expectClose(y, shape: [1, 2, 1, 2], [4, 7, 1.5, -0.5])
    }

    @Test func batchnormDefaultEps() throws {
        // var 0, default eps 1e-5: (2 − 1)/√1e-5 = 316.22776601683796 (eps = 0 would divide by 0;
        // a different eps would be off by far more than the tolerance).
        let y = try S.evaluate("y = batchnorm(x)", input: S.t([1, 1, 1, 1], [2]), weights: [
            "y.weight": S.t([1], [1]), "y.bias": S.t([1], [0]),
            "y.running_mean": S.t([1], [1]), "y.running_var": S.t([1], [0]),
        ])
        S.expectClose(y, shape: [1, 1, 1, 1], [316.22776601683796])
    }

    @Test func batchnormBatchOfTwo() throws {
        // N = 2, C = 2, 1x1, eps 0.5: the channel of element (n, c) is c, not n.
        // ch0: w 2, b 0, mean 0, var 0.5 → √1 = 1: y = 2x
        // ch1: w 1, b 10, mean 1, var 3.5 → √4 = 2: y = (x − 1)/2 + 10
        // x = [[1, 3], [5, 7]] → [[2, 11], [10, 13]]
        let y = try S.direct(.batchnorm, [S.t([2, 2, 1, 1], [1, 3, 5, 7])], ["eps": .float(0.5)],
                             parameters: [S.t([2], [2, 1]), S.t([2], [0, 10]), S.t([2], [0, 1]), S.t([2], [0.5, 3.5])])
        S.expectClose(y, shape: [2, 2, 1, 1], [2, 11, 10, 13])
    }

    // MARK: relu, add

    @Test func relu() throws {
        let y = try S.evaluate("y = relu(x)", input: S.t([1, 5], [-1, 0, 2, -0.5, 3]))
        S.expectClose(y, shape: [1, 5], [0, 0, 2, 0, 3])
    }

    @Test func relu6() throws {
        // min(max(x, 0), 6): −1 → 0, 0 → 0, 2.5 → 2.5, 6 → 6, 7 → 6, 1000 → 6, −0.5 → 0
        let y = try S.evaluate("y = relu6(x)", input: S.t([1, 7], [-1, 0, 2.5, 6, 7, 1000, -0.5]))
        S.expectClose(y, shape: [1, 7], [0, 0, 2.5, 6, 6, 6, 0])
        // NaN stays NaN (as in PyTorch, and in the C and Swift kernels): it is neither < 0 nor > 6.
        let nan = ReLU6.evaluate(inputs: [S.t([1, 2], [.nan, -.infinity])], parameters: [], attributes: Attributes(),
                                 outputShape: [1, 2])
        #expect(nan.data[0].isNaN && nan.data[1] == 0)
    }

    @Test func addAndFusedReLU() throws {
        // x = [−2, 1, 3], r = relu(x) = [0, 1, 3]
        // add(x, r) = [−2, 2, 6]; with relu=true → [0, 2, 6]; add(x, x) = [−4, 2, 6]
        let x = S.t([1, 1, 1, 3], [-2, 1, 3])
        let plain = try S.evaluate("r = relu(x)\ny = add(x, r)", input: x)
        S.expectClose(plain, shape: [1, 1, 1, 3], [-2, 2, 6])
        let fused = try S.evaluate("r = relu(x)\ny = add(x, r, relu=true)", input: x)
        S.expectClose(fused, shape: [1, 1, 1, 3], [0, 2, 6])
        let twice = try S.evaluate("y = add(x, x)", input: x)
        S.expectClose(twice, shape: [1, 1, 1, 3], [-4, 2, 6])
    }

    // MARK: concat

    @Test func concatOrderAndMultipleInputs() throws {
        // x = [−1, 2] (1 channel, 1x2), r = relu(x) = [0, 2], p = channel_pad(x, before=1) = [0,0 | −1,2]
        let x = S.t([1, 1, 1, 2], [-1, 2])
        let xr = try S.evaluate("r = relu(x)\ny = concat(x, r)", input: x)
        S.expectClose(xr, shape: [1, 2, 1, 2], [-1, 2, 0, 2])
        let rx = try S.evaluate("r = relu(x)\ny = concat(r, x)", input: x)
        S.expectClose(rx, shape: [1, 2, 1, 2], [0, 2, -1, 2])
        // Three inputs of 1, 2 and 1 channels, in argument order.
        let three = try S.evaluate("r = relu(x)\np = channel_pad(x, before=1, after=0)\ny = concat(x, p, r)", input: x)
        S.expectClose(three, shape: [1, 4, 1, 2], [-1, 2, 0, 0, -1, 2, 0, 2])
        // A single input is the identity.
        let one = try S.evaluate("y = concat(x)", input: x)
        S.expectClose(one, shape: [1, 1, 1, 2], [-1, 2])
    }

    @Test func concatBatchOfTwo() throws {
        // a [2,1,1,1] = [1 | 2], b [2,2,1,1] = [3,4 | 5,6]: per sample a then b → [1,3,4 | 2,5,6]
        let y = try S.direct(.concat, [S.t([2, 1, 1, 1], [1, 2]), S.t([2, 2, 1, 1], [3, 4, 5, 6])])
        S.expectClose(y, shape: [2, 3, 1, 1], [1, 3, 4, 2, 5, 6])
    }

    // MARK: maxpool

    @Test func maxpoolPaddingNeverWins() throws {
        // x = [[−1,−2],[−3,−4]], kernel 2, stride 1, pad 1 → 3x3; each window takes the max of
        // its in-bounds elements only (zero padding would give 0 everywhere):
        // (0,0) {−1} (0,1) {−1,−2} (0,2) {−2}
        // (1,0) {−1,−3} (1,1) all (1,2) {−2,−4}
        // (2,0) {−3} (2,1) {−3,−4} (2,2) {−4}
        let y = try S.evaluate("y = maxpool(x, kernel=2, stride=1, pad=1)", input: S.t([1, 1, 2, 2], [-1, -2, -3, -4]))
        S.expectClose(y, shape: [1, 1, 3, 3], [-1, -1, -2, -1, -1, -2, -3, -3, -4])
    }

    @Test func maxpoolDefaultStrideIsKernel() throws {
        // 4x4 of 1..16, kernel 2 (stride 2): block maxima 6, 8, 14, 16.
        let y = try S.evaluate("y = maxpool(x, kernel=2)", input: S.iota([1, 1, 4, 4]))
        S.expectClose(y, shape: [1, 1, 2, 2], [6, 8, 14, 16])
        // 5x5 of 1..25, kernel 2: ⌊(5 − 2)/2⌋ + 1 = 2, the last row and column are dropped:
        // maxima of rows 0-1/cols 0-1 = 7, cols 2-3 = 9; rows 2-3: 17, 19.
        let z = try S.evaluate("y = maxpool(x, kernel=2)", input: S.iota([1, 1, 5, 5]))
        S.expectClose(z, shape: [1, 1, 2, 2], [7, 9, 17, 19])
    }

    @Test func maxpoolKernel3Stride2Pad1() throws {
        // 4x4 of 1..16, kernel 3, stride 2, pad 1 → 2x2. Windows cover rows {0,1} and {1,2,3}
        // (same for columns): maxima x[1,1] = 6, x[1,3] = 8, x[3,1] = 14, x[3,3] = 16.
        let y = try S.evaluate("y = maxpool(x, kernel=3, stride=2, pad=1)", input: S.iota([1, 1, 4, 4]))
        S.expectClose(y, shape: [1, 1, 2, 2], [6, 8, 14, 16])
    }

    @Test func maxpoolPerChannel() throws {
        // 2 channels of 2x2, kernel 2: [1,2,3,4] → 4, [−5,−6,−7,−8] → −5
        let y = try S.evaluate("y = maxpool(x, kernel=2)", input: S.t([1, 2, 2, 2], [1, 2, 3, 4, -5, -6, -7, -8]))
        S.expectClose(y, shape: [1, 2, 1, 1], [4, -5])
    }

    // MARK: avgpool

    @Test func avgpoolCountsPaddingAsZeros() throws {
        // x = [[1,2],[3,4]], kernel 2, stride 1, pad 1 → 3x3; sum of in-bounds values / 4 always
        // (count_include_pad=True; excluding the padding would give 1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4):
        // (0,0) 1/4  (0,1) 3/4  (0,2) 2/4
        // (1,0) 4/4  (1,1) 10/4 (1,2) 6/4
        // (2,0) 3/4  (2,1) 7/4  (2,2) 4/4
        let y = try S.evaluate("y = avgpool(x, kernel=2, stride=1, pad=1)", input: S.iota([1, 1, 2, 2]))
        S.expectClose(y, shape: [1, 1, 3, 3], [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1])
    }

    @Test func avgpoolKernel3Pad1() throws {
        // 3x3 of 1..9, kernel 3, stride 1, pad 1: the neighbourhood sums of convZeroPaddingSame / 9.
        let y = try S.evaluate("y = avgpool(x, kernel=3, stride=1, pad=1)", input: Self.x33)
        S.expectClose(y, shape: [1, 1, 3, 3], [12, 21, 16, 27, 45, 33, 24, 39, 28].map { $0 / 9.0 })
    }

    @Test func avgpoolDefaultStrideIsKernel() throws {
        // 4x4 of 1..16, kernel 2: block means (1+2+5+6)/4 = 3.5, 5.5, 11.5, 13.5.
        let y = try S.evaluate("y = avgpool(x, kernel=2)", input: S.iota([1, 1, 4, 4]))
        S.expectClose(y, shape: [1, 1, 2, 2], [3.5, 5.5, 11.5, 13.5])
        // Non-square kernel [2,1] (stride [2,1]) on 2x3 of 1..6: column means (1+4)/2, (2+5)/2, (3+6)/2.
        let z = try S.evaluate("y = avgpool(x, kernel=[2, 1])", input: S.iota([1, 1, 2, 3]))
        S.expectClose(z, shape: [1, 1, 1, 3], [2.5, 3.5, 4.5])
    }

    @Test func avgpoolAccumulatesInFloat64() throws {
        // (1e8 + 1 − 1e8 + 2)/4 = 0.75; float32 left-to-right would give (0 + 2)/4 = 0.5.
        let y = try S.evaluate("y = avgpool(x, kernel=2)", input: S.t([1, 1, 2, 2], [1e8, 1, -1e8, 2]))
        #expect(y.data == [0.75])
    }

    // MARK: global_avg_pool

    @Test func globalAvgPool() throws {
        // ch0 [1,2,3,4] → 2.5; ch1 [−1,−1,−1,5] → 0.5
        let y = try S.evaluate("y = global_avg_pool(x)", input: S.t([1, 2, 2, 2], [1, 2, 3, 4, -1, -1, -1, 5]))
        S.expectClose(y, shape: [1, 2, 1, 1], [2.5, 0.5])
        // Non-square 1x3 plane: (3 + 4 + 8)/3 = 5
        let z = try S.evaluate("y = global_avg_pool(x)", input: S.t([1, 1, 1, 3], [3, 4, 8]))
        S.expectClose(z, shape: [1, 1, 1, 1], [5])
        // float64: (1e8 + 1 − 1e8 + 2)/4 = 0.75 (float32: 0.5)
        let f = try S.evaluate("y = global_avg_pool(x)", input: S.t([1, 1, 2, 2], [1e8, 1, -1e8, 2]))
        #expect(f.data == [0.75])
    }

    // MARK: flatten

    @Test func flattenKeepsCOrder() throws {
        // [1,2,1,2]: ch0 = [1,2], ch1 = [3,4] → [1,2,3,4] (channel-major; NHWC order would be [1,3,2,4]).
        let y = try S.evaluate("y = flatten(x)", input: S.iota([1, 2, 1, 2]))
        S.expectClose(y, shape: [1, 4], [1, 2, 3, 4])
        // [1,2,2,3] → [1,12], values 1..12 in order.
        let z = try S.evaluate("y = flatten(x)", input: S.iota([1, 2, 2, 3]))
        S.expectClose(z, shape: [1, 12], (1...12).map(Double.init))
    }

    // MARK: linear

    @Test func linearWeightIsOutByIn() throws {
        // x = [1,2,3], W = [[1,0,−1],[2,1,0]] ([out=2, in=3]), b = [0.5, 10]
        // o0 = 1 − 3 + 0.5 = −1.5;  o1 = 2 + 2 + 10 = 14
        let x = S.t([1, 3], [1, 2, 3])
        let w = S.t([2, 3], [1, 0, -1, 2, 1, 0])
        let y = try S.evaluate("y = linear(x, out=2)", input: x, weights: ["y.weight": w, "y.bias": S.t([2], [0.5, 10])])
        S.expectClose(y, shape: [1, 2], [-1.5, 14])
        // bias=false: [−2, 4]
        let n = try S.evaluate("y = linear(x, out=2, bias=false)", input: x, weights: ["y.weight": w])
        S.expectClose(n, shape: [1, 2], [-2, 4])
        // relu=true: [0, 14]
        let r = try S.evaluate("y = linear(x, out=2, relu=true)", input: x, weights: ["y.weight": w, "y.bias": S.t([2], [0.5, 10])])
        S.expectClose(r, shape: [1, 2], [0, 14])
    }

    @Test func linearAccumulatesInFloat64() throws {
        // [1e8, 1, −1e8]·[1, 1, 1] = 1 exactly (float32: 0)
        let y = try S.evaluate("y = linear(x, out=1, bias=false)", input: S.t([1, 3], [1e8, 1, -1e8]),
                               weights: ["y.weight": S.t([1, 3], [1, 1, 1])])
        #expect(y.data == [1])
    }

    // MARK: softmax

    @Test func softmaxHandValues() throws {
        // [0, ln 2, ln 3] → e^x = [1, 2, 3] / 6 = [1/6, 1/3, 1/2]
        let y = try S.evaluate("y = softmax(x)", input: S.t([1, 3], [0, Float(0.6931471805599453), Float(1.0986122886681098)]))
        S.expectClose(y, shape: [1, 3], [1.0 / 6, 1.0 / 3, 0.5])
        #expect(abs(y.data.reduce(0, +) - 1) < 1e-6)
    }

    @Test func softmaxIsStableForLargeLogits() throws {
        // [1000, 999]: e^1000 overflows, but softmax = [1, e^−1]/(1 + e^−1) = [0.7310585786300049, 0.2689414213699951]
        let y = try S.evaluate("y = softmax(x)", input: S.t([1, 2], [1000, 999]))
        S.expectClose(y, shape: [1, 2], [0.7310585786300049, 0.2689414213699951])
        // Four equal large logits → 0.25 each; very negative ones → [0, 1].
        let z = try S.evaluate("y = softmax(x)", input: S.t([1, 4], [1000, 1000, 1000, 1000]))
        S.expectClose(z, shape: [1, 4], [0.25, 0.25, 0.25, 0.25])
        let w = try S.evaluate("y = softmax(x)", input: S.t([1, 2], [-1000, 0]))
        S.expectClose(w, shape: [1, 2], [0, 1])
    }

    @Test func softmaxOverChannelsOfNCHW() throws {
        // [1,2,1,2]: ch0 = [0, 1000], ch1 = [0, 999]. Softmax over axis 1 at each position:
        // position 0: (0, 0) → 0.5, 0.5;  position 1: (1000, 999) → 0.7310585786, 0.2689414214
        let y = try S.evaluate("y = softmax(x)", input: S.t([1, 2, 1, 2], [0, 1000, 0, 999]))
        S.expectClose(y, shape: [1, 2, 1, 2], [0.5, 0.7310585786300049, 0.5, 0.2689414213699951])
    }

    @Test func softmaxRowsSumToOne() throws {
        // Batch of 2 rows (direct call): each row on its own; [0,0] → 0.5 each, [ln 3, 0] → 3/4, 1/4.
        let y = try S.direct(.softmax, [S.t([2, 2], [0, 0, Float(1.0986122886681098), 0])])
        S.expectClose(y, shape: [2, 2], [0.5, 0.5, 0.75, 0.25])
        #expect(abs(y.data[0] + y.data[1] - 1) < 1e-6)
        #expect(abs(y.data[2] + y.data[3] - 1) < 1e-6)
    }

    // MARK: sigmoid

    @Test func sigmoid() throws {
        // σ(0) = 1/2, σ(ln 3) = 1/(1 + 1/3) = 3/4, σ(−ln 3) = 1/4, σ(±1000) = 1, 0 (no NaN)
        let ln3 = Float(1.0986122886681098)
        let y = try S.evaluate("y = sigmoid(x)", input: S.t([1, 5], [0, ln3, -ln3, 1000, -1000]))
        S.expectClose(y, shape: [1, 5], [0.5, 0.75, 0.25, 1, 0])
    }

    // MARK: subsample

    @Test func subsampleKeepsEveryStrideth() throws {
        // 3x3, stride 2: rows/cols 0, 2 → [1, 3, 7, 9], size ⌈3/2⌉ = 2
        let y = try S.evaluate("y = subsample(x, stride=2)", input: Self.x33)
        S.expectClose(y, shape: [1, 1, 2, 2], [1, 3, 7, 9])
        // 3x4 of 1..12, stride 2: rows 0, 2 and cols 0, 2 → [1, 3, 9, 11]
        let z = try S.evaluate("y = subsample(x, stride=2)", input: S.iota([1, 1, 3, 4]))
        S.expectClose(z, shape: [1, 1, 2, 2], [1, 3, 9, 11])
        // 5x5 of 1..25, stride 3: rows/cols 0, 3 → [1, 4, 16, 19]
        let w = try S.evaluate("y = subsample(x, stride=3)", input: S.iota([1, 1, 5, 5]))
        S.expectClose(w, shape: [1, 1, 2, 2], [1, 4, 16, 19])
        // Per channel: two 2x2 planes 1..4 and 5..8, stride 2 → [1, 5]
        let c = try S.evaluate("y = subsample(x, stride=2)", input: S.iota([1, 2, 2, 2]))
        S.expectClose(c, shape: [1, 2, 1, 1], [1, 5])
    }

    // MARK: channel_pad

    @Test func channelPadAddsZeroChannels() throws {
        // [1,2,1,2] = [1,2 | 3,4], before 1, after 2 → [0,0 | 1,2 | 3,4 | 0,0 | 0,0]
        let y = try S.evaluate("y = channel_pad(x, before=1, after=2)", input: S.iota([1, 2, 1, 2]))
        S.expectClose(y, shape: [1, 5, 1, 2], [0, 0, 1, 2, 3, 4, 0, 0, 0, 0])
        // after only
        let a = try S.evaluate("y = channel_pad(x, before=0, after=1)", input: S.iota([1, 1, 1, 2]))
        S.expectClose(a, shape: [1, 2, 1, 2], [1, 2, 0, 0])
    }

    @Test func channelPadBatchOfTwo() throws {
        // [2,1,1,1] = [7 | 8], before 1, after 1 → [0,7,0 | 0,8,0]
        let y = try S.direct(.channelPad, [S.t([2, 1, 1, 1], [7, 8])], ["before": .int(1), "after": .int(1)])
        S.expectClose(y, shape: [2, 3, 1, 1], [0, 7, 0, 0, 8, 0])
    }

    @Test func optionAShortcut() throws {
        // The option-A ResNet shortcut: subsample 2 then pad C/2 on both sides.
        // x: 2 channels of 3x3 (1..9, 10..18) → subsample → [1,3,7,9 | 10,12,16,18] → pad 1 + 1.
        let y = try S.evaluate("s = subsample(x, stride=2)\ny = channel_pad(s, before=1, after=1)", input: S.iota([1, 2, 3, 3]))
        S.expectClose(y, shape: [1, 4, 2, 2], [0, 0, 0, 0, 1, 3, 7, 9, 10, 12, 16, 18, 0, 0, 0, 0])
    }

    // MARK: shape inference

    struct ShapeCase: Sendable, CustomTestStringConvertible {
        var input: [Int]
        var body: String
        var expected: [Int]
        var testDescription: String { "\(body) on \(input)" }
    }

    static let shapeCases: [ShapeCase] = [
        // conv: H' = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1
        ShapeCase(input: [1, 3, 32, 32], body: "y = conv2d(x, out=16, kernel=3, pad=1)", expected: [1, 16, 32, 32]),
        ShapeCase(input: [1, 3, 32, 32], body: "y = conv2d(x, out=16, kernel=3, stride=2, pad=1)", expected: [1, 16, 16, 16]), // ⌊31/2⌋+1
        ShapeCase(input: [1, 3, 8, 8], body: "y = conv2d(x, out=4, kernel=3, stride=2)", expected: [1, 4, 3, 3]), // ⌊5/2⌋+1 (ceil: 4)
        ShapeCase(input: [1, 2, 7, 7], body: "y = conv2d(x, out=2, kernel=3, dilation=2)", expected: [1, 2, 3, 3]), // span 5
        ShapeCase(input: [1, 2, 7, 7], body: "y = conv2d(x, out=2, kernel=3, pad=2, dilation=2)", expected: [1, 2, 7, 7]),
        ShapeCase(input: [1, 1, 5, 7], body: "y = conv2d(x, out=3, kernel=[1, 3], stride=[2, 1], pad=[0, 1])", expected: [1, 3, 3, 7]),
        ShapeCase(input: [1, 1, 5, 7], body: "y = conv2d(x, out=1, kernel=[3, 1])", expected: [1, 1, 3, 7]),
        ShapeCase(input: [1, 16, 7, 7], body: "y = conv2d(x, out=8, kernel=1, stride=2)", expected: [1, 8, 4, 4]), // ⌊6/2⌋+1
        ShapeCase(input: [1, 3, 224, 224], body: "y = conv2d(x, out=64, kernel=7, stride=2, pad=3)", expected: [1, 64, 112, 112]), // ⌊223/2⌋+1
        ShapeCase(input: [1, 8, 6, 6], body: "y = conv2d(x, out=8, kernel=3, pad=1, groups=8)", expected: [1, 8, 6, 6]),
        // same-shape ops
        ShapeCase(input: [1, 3, 5, 5], body: "y = batchnorm(x)", expected: [1, 3, 5, 5]),
        ShapeCase(input: [1, 3, 5, 5], body: "y = relu(x)", expected: [1, 3, 5, 5]),
        ShapeCase(input: [1, 3, 5, 5], body: "y = relu6(x)", expected: [1, 3, 5, 5]),
        ShapeCase(input: [1, 3, 5, 5], body: "y = sigmoid(x)", expected: [1, 3, 5, 5]),
        ShapeCase(input: [1, 10], body: "y = softmax(x)", expected: [1, 10]),
        ShapeCase(input: [1, 3, 2, 2], body: "y = softmax(x)", expected: [1, 3, 2, 2]),
        ShapeCase(input: [1, 3, 5, 5], body: "r = relu(x)\ny = add(r, x)", expected: [1, 3, 5, 5]),
        // concat: channels summed
        ShapeCase(input: [1, 3, 4, 4], body: "a = conv2d(x, out=2, kernel=1)\nr = relu(x)\ny = concat(a, r, x, a)", expected: [1, 10, 4, 4]),
        // pooling: as conv, stride defaults to the kernel
        ShapeCase(input: [1, 64, 112, 112], body: "y = maxpool(x, kernel=3, stride=2, pad=1)", expected: [1, 64, 56, 56]), // ⌊111/2⌋+1
        ShapeCase(input: [1, 1, 5, 5], body: "y = maxpool(x, kernel=2)", expected: [1, 1, 2, 2]), // ⌊3/2⌋+1
        ShapeCase(input: [1, 1, 7, 7], body: "y = avgpool(x, kernel=3)", expected: [1, 1, 2, 2]), // ⌊4/3⌋+1
        ShapeCase(input: [1, 1, 2, 2], body: "y = avgpool(x, kernel=2, stride=1, pad=1)", expected: [1, 1, 3, 3]),
        ShapeCase(input: [1, 1, 4, 3], body: "y = avgpool(x, kernel=[2, 1])", expected: [1, 1, 2, 3]),
        ShapeCase(input: [1, 4, 8, 8], body: "y = avgpool(x, kernel=2, stride=1)", expected: [1, 4, 7, 7]),
        ShapeCase(input: [1, 5, 7, 3], body: "y = global_avg_pool(x)", expected: [1, 5, 1, 1]),
        ShapeCase(input: [1, 2, 3, 4], body: "y = flatten(x)", expected: [1, 24]),
        ShapeCase(input: [1, 5], body: "y = flatten(x)", expected: [1, 5]),
        ShapeCase(input: [1, 8], body: "y = linear(x, out=10)", expected: [1, 10]),
        ShapeCase(input: [1, 8], body: "y = linear(x, out=1, bias=false)", expected: [1, 1]),
        // subsample: ⌈H/s⌉
        ShapeCase(input: [1, 4, 5, 7], body: "y = subsample(x, stride=2)", expected: [1, 4, 3, 4]),
        ShapeCase(input: [1, 4, 32, 32], body: "y = subsample(x, stride=3)", expected: [1, 4, 11, 11]),
        ShapeCase(input: [1, 4, 5, 5], body: "y = subsample(x, stride=1)", expected: [1, 4, 5, 5]),
        ShapeCase(input: [1, 16, 8, 8], body: "y = channel_pad(x, before=4, after=4)", expected: [1, 24, 8, 8]),
        ShapeCase(input: [1, 16, 8, 8], body: "y = channel_pad(x, before=0, after=3)", expected: [1, 19, 8, 8]),
    ]

    @Test(arguments: shapeCases)
    func shapeInference(_ c: ShapeCase) throws {
        #expect(try S.shape(input: c.input, body: c.body) == c.expected)
    }

    @Test func convParameterShapes() throws {
        // weight [out, C/groups, kh, kw], bias [out] when bias=true
        let g = try S.load(S.graphText(input: [1, 4, 5, 5], body: "y = conv2d(x, out=6, kernel=[3, 1], groups=2)"))
        let node = try #require(g.graph.nodes.first { $0.name == "y" })
        #expect(g.parameters(node) == [ParameterSpec("weight", [6, 2, 3, 1], seeded: .kaiming), ParameterSpec("bias", [6])])
        let h = try S.load(S.graphText(input: [1, 8], body: "y = linear(x, out=3, bias=false)"))
        let fc = try #require(h.graph.nodes.first { $0.name == "y" })
        #expect(h.parameters(fc) == [ParameterSpec("weight", [3, 8])])
    }

    // MARK: shape errors (a few; the verifier's diagnostics are tested in depth elsewhere)

    @Test func shapeErrorsAreDiagnosed() {
        func errors(_ input: [Int], _ body: String) -> [String] {
            S.errors(S.graphText(input: input, body: body))
        }
        #expect(errors([1, 3, 4, 4], "y = conv2d(x, out=4, kernel=1, groups=2)")
            .contains("groups=2 does not divide the 3 input channels"))
        #expect(errors([1, 4, 4, 4], "y = conv2d(x, out=3, kernel=1, groups=2)")
            .contains("groups=2 does not divide out=3"))
        #expect(errors([1, 1, 3, 3], "y = conv2d(x, out=1, kernel=5)")
            .contains("conv2d window 5x5 does not fit the 3x3 input with padding 0x0"))
        #expect(errors([1, 1, 3, 3], "r = subsample(x, stride=2)\ny = add(x, r)")
            .contains("add of [1,1,3,3] and [1,1,2,2]: shapes must be equal"))
        #expect(errors([1, 1, 3, 3], "r = subsample(x, stride=2)\ny = concat(x, r)")
            .contains("concat of [1,1,3,3] and [1,1,2,2]: all but the channel axis must be equal"))
        #expect(errors([1, 1, 4, 4], "y = maxpool(x, kernel=2, pad=2)")
            .contains("pad should be at most half the kernel size (as PyTorch requires)"))
        #expect(errors([1, 1, 3, 3], "y = linear(x, out=2)")
            .contains("linear expects [N, features], found [1,1,3,3]; flatten it first"))
        #expect(errors([1, 1, 3, 3], "y = batchnorm(x, eps=0)")
            .contains("eps must be positive"))
        #expect(errors([1, 1, 3, 3], "y = subsample(x)")
            .contains("subsample needs attribute 'stride'"))
        // And a valid body loads without errors.
        #expect(errors([1, 1, 3, 3], "y = maxpool(x, kernel=3, pad=1)").isEmpty)
    }
}
