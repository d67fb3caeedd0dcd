/// One distinct kernel of a lowered program: a `KernelSpec` (which op, and its specialization:
/// shapes, strides, block sizes, fused ReLU) that every backend can print. The lowering can only
/// produce kernels conforming to each backend's printer protocol, so a new kernel fails to build
/// until both backends print it (a C function in CKernels, a Swift one in SwiftKernels).
typealias Kernel = CKernel & SwiftKernel
