import Foundation
import Testing
import IR
import Passes
@testable import Quantize

/// `../shared/data/cifar10` beside the package (absent on most machines: these tests skip).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let sharedData = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/cifar10")
let haveSharedData = FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("resnet44a.safetensors").path)

/// The real ResNet-44 in int8 in the interpreters: calibrated on training images, its top-1 on
/// test images close to the float network's (the full 1,000 / 3,000 figure is the README's,
/// measured with the generated C).
@Test(.enabled(if: haveSharedData, "needs ../shared/data/cifar10"))
func realResNet44Int8TracksFloat() throws {
    let graph: VerifiedGraph
    switch VerifiedGraph.load(path: packageRoot.appendingPathComponent("examples/resnet44a.eeir").path) {
    case .success(let (g, _)): graph = g
    case .failure(let f): throw QuantizeError(f.message)
    }
    let file = try SafetensorsFile.read(path: sharedData.appendingPathComponent("resnet44a.safetensors").path)
    let compiled = try PassPipeline([FoldBatchNorm(), FuseReLU()]).run(Model(graph: graph, weights: file.tensors))
    let bound = try WeightBinder.bind(compiled.graph, tensors: compiled.weights, source: "resnet44a")
    let norm = ImageBatch.Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    let n = Int(ProcessInfo.processInfo.environment["EEC_INT8_SAMPLES"] ?? "") ?? 20
    let train = try ImageBatch.readInputs(path: sharedData.appendingPathComponent("train_x_0_24999.npy").path, sampleShape: [3, 32, 32], normalization: norm)
    let test = try ImageBatch.readInputs(path: sharedData.appendingPathComponent("test_x_0_2999.npy").path, sampleShape: [3, 32, 32], normalization: norm)
    let labels = try ImageBatch.readLabels(path: sharedData.appendingPathComponent("test_y_0_2999.npy").path)
    let clock = ContinuousClock()
    let start = clock.now
    let ranges = Calibration.interpret(compiled.graph, weights: bound, inputs: Array(train.prefix(n)), method: .minmax)
    let calibrated = clock.now
    let network = try Quantizer.quantize(compiled.graph, weights: bound, ranges: { ranges.range($0, method: .minmax) })
    let int8 = Int8Interpreter(try IntegerProgram(network))
    let float = Interpreter(compiled.graph, weights: bound)
    func argmax(_ v: [Float]) -> Int { v.indices.max { v[$0] < v[$1] || (v[$0] == v[$1] && $0 > $1) } ?? 0 }
    var (qRight, fRight, agree) = (0, 0, 0)
    for i in 0..<n {
        let q = argmax(int8.run(test[i]).logits.data), f = argmax(float.run(test[i]).logits.data)
        qRight += q == labels[i] ? 1 : 0
        fRight += f == labels[i] ? 1 : 0
        agree += q == f ? 1 : 0
    }
    print("resnet44a int8: calibrated on \(n) in \(calibrated - start), top-1 int8 \(qRight)/\(n) float \(fRight)/\(n), agreement \(agree)/\(n), \(clock.now - calibrated) to evaluate")
    #expect(agree >= n * 95 / 100)
    #expect(abs(qRight - fRight) <= max(2, n * 2 / 100))
}
