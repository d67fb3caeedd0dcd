import Foundation

/// Adam (Kingma & Ba), as torch.optim.Adam with default betas and no weight decay.
struct Adam {
    let learningRate: Double
    let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    private var m: [[Double]] = []
    private var v: [[Double]] = []
    private var step = 0

    init(learningRate: Double) {
        self.learningRate = learningRate
    }

    /// Updates `parameters` (a flat list of tensors) from `gradients` of the same layout.
    mutating func update(_ parameters: inout [[Float]], _ gradients: [[Float]]) {
        if m.isEmpty {
            m = parameters.map { [Double](repeating: 0, count: $0.count) }
            v = m
        }
        step += 1
        let correction1 = 1 - pow(beta1, Double(step)), correction2 = 1 - pow(beta2, Double(step))
        for t in parameters.indices {
            for i in parameters[t].indices {
                let g = Double(gradients[t][i])
                m[t][i] = beta1 * m[t][i] + (1 - beta1) * g
                v[t][i] = beta2 * v[t][i] + (1 - beta2) * g * g
                let update = learningRate * (m[t][i] / correction1) / ((v[t][i] / correction2).squareRoot() + epsilon)
                parameters[t][i] = Float(Double(parameters[t][i]) - update)
            }
        }
    }
}
