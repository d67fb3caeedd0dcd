/// int8 networks are printed in C only so far: a Swift package of one fails to build with this
/// message instead of computing something else (`eec compile --emit swift` refuses them first).
extension Int8Kernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        s.line("#error(\"eec: the Swift backend does not print int8 kernels yet (\(key)); compile with --emit c\")")
    }
}
