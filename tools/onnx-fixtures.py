#!/usr/bin/env python3
"""Cross-checks `eec import` against ONNX Runtime (optional dev tool; swift test never needs it).

Builds small ONNX models with onnx.helper, one per supported op and opset variant (independent of
the Swift tests' own protobuf writer), runs each in ONNX Runtime, then imports it with `eec import`
and runs it with `eec run` (the reference interpreter, and --backend c with --c), and compares
the logits. Models eec must reject are checked to fail with exit status 1 and a message.

    pip install onnx onnxruntime numpy
    swift build && tools/onnx-fixtures.py [--eec .build/debug/eec] [--keep DIR] [--c]
"""
import argparse, os, subprocess, sys, tempfile
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort

rng = np.random.default_rng(0)


def weights(*shape):
    return rng.uniform(-1, 1, shape).astype(np.float32)


def model(nodes, inits, in_shape, opset, out="y"):
    graph = helper.make_graph(
        nodes, "fixture",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", "K"])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(m, full_check=True)
    return m


def i64(*v):
    return np.array(v, dtype=np.int64)


def fixtures():
    """(name, model, input shape, expect_error) for every case; expect_error True for what eec
    must refuse."""
    out = []
    for opset in (11, 13, 17, 18, 21):
        # Conv variants, BN, ReLU, pools, Flatten
        out.append((f"conv_bn_relu_pool_o{opset}", model([
            helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2]),
            helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"], epsilon=1e-3),
            helper.make_node("Relu", ["n"], ["r"]),
            helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
            helper.make_node("Flatten", ["p"], ["y"]),
        ], {"w": weights(4, 3, 3, 3), "b": weights(4), "s": weights(4), "bb": weights(4), "m": weights(4),
            "v": np.abs(weights(4)) + 0.5}, [1, 3, 9, 9], opset), [1, 3, 9, 9], False))
        out.append((f"grouped_dilated_avgpool_gemm_o{opset}", model([
            helper.make_node("Conv", ["x", "w"], ["c0"], group=2, dilations=[2, 2], pads=[2, 2, 2, 2]),
            helper.make_node("Conv", ["c0", "w2"], ["c"], auto_pad="SAME_UPPER"),
            helper.make_node("AveragePool", ["c"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Flatten", ["p"], ["f"]),
            helper.make_node("Gemm", ["f", "g", "gb"], ["y"], transB=1),
        ], {"w": weights(4, 1, 3, 3), "w2": weights(4, 4, 3, 3), "g": weights(5, 4 * 4 * 4), "gb": weights(5)}, [1, 2, 8, 8], opset), [1, 2, 8, 8], False))
        # DenseNet-like concat, global pool, MatMul + Add, Softmax
        out.append((f"concat_gap_matmul_softmax_o{opset}", model([
            helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("Concat", ["c", "x"], ["k"], axis=1),
            helper.make_node("GlobalAveragePool", ["k"], ["g"]),
            helper.make_node("Flatten", ["g"], ["f"]),
            helper.make_node("MatMul", ["f", "mm"], ["mo"]),
            helper.make_node("Add", ["mo", "mb"], ["a"]),
            helper.make_node("Softmax", ["a"], ["y"], axis=1),
        ], {"w": weights(3, 2, 3, 3), "mm": weights(5, 4), "mb": weights(4)}, [1, 2, 6, 6], opset), [1, 2, 6, 6], False))
        # Option-A shortcut: Slice steps on H and W, Pad on channels (pads as an input since 11, axes since 18)
        slices = [helper.make_node("Slice", ["x", "z", "e", "a2", "two"], ["s1"]),
                  helper.make_node("Slice", ["s1", "z", "e", "a3", "two"], ["s"])]
        consts = {"z": i64(0), "e": i64(2**62), "a2": i64(2), "a3": i64(3), "two": i64(2)}
        if opset >= 18:
            pad = helper.make_node("Pad", ["s", "pads", "", "axes"], ["p"])
            consts.update({"pads": i64(2, 2), "axes": i64(1)})
        else:
            pad = helper.make_node("Pad", ["s", "pads"], ["p"], mode="constant")
            consts.update({"pads": i64(0, 2, 0, 0, 0, 2, 0, 0)})
        out.append((f"shortcut_o{opset}", model(slices + [pad, helper.make_node("Flatten", ["p"], ["y"])], consts,
                                               [1, 4, 6, 6], opset), [1, 4, 6, 6], False))
        # Reshape to [N, -1] through Shape/Gather/Unsqueeze/Concat, Clip(0, inf) as ReLU, Sigmoid
        unsq = (helper.make_node("Unsqueeze", ["n"], ["n1"], axes=[0]) if opset < 13
                else helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]))
        out.append((f"shape_flatten_clip_sigmoid_o{opset}", model([
            helper.make_node("Clip", ["x", "lo"], ["c"]),
            helper.make_node("Sigmoid", ["c"], ["sg"]),
            helper.make_node("Shape", ["sg"], ["sh"]),
            helper.make_node("Gather", ["sh", "zero"], ["n"], axis=0),
            unsq,
            helper.make_node("Concat", ["n1", "m1"], ["tgt"], axis=0),
            helper.make_node("Reshape", ["sg", "tgt"], ["y"]),
        ], {"lo": np.array(0, np.float32), "zero": np.array(0, np.int64), "ax0": i64(0), "m1": i64(-1)},
            [1, 2, 3, 3], opset), [1, 2, 3, 3], False))
    # A zero Pad of H and W before a Conv (nn.ZeroPad2d), pads as an input and, since 18, with axes.
    for opset in (11, 18):
        pad = (helper.make_node("Pad", ["x", "pads", "", "axes"], ["p"]) if opset >= 18
               else helper.make_node("Pad", ["x", "pads"], ["p"]))
        out.append((f"zeropad_conv_o{opset}", model([pad, helper.make_node("Conv", ["p", "w"], ["c"]),
                                                     helper.make_node("Flatten", ["c"], ["y"])],
                                                    {"w": weights(3, 2, 3, 3), "axes": i64(2, 3),
                                                     "pads": i64(1, 1, 1, 1) if opset >= 18 else i64(0, 0, 1, 1, 0, 0, 1, 1)},
                                                    [1, 2, 5, 5], opset), [1, 2, 5, 5], False))
    # What eec must refuse, with a message.
    out.append(("reject_leakyrelu", model([helper.make_node("LeakyRelu", ["x"], ["l"]), helper.make_node("Flatten", ["l"], ["y"])],
                                          {}, [1, 2, 3, 3], 17), [1, 2, 3, 3], True))
    out.append(("reject_asymmetric_pads", model([helper.make_node("Conv", ["x", "w"], ["c"], pads=[0, 0, 1, 1]),
                                                 helper.make_node("Flatten", ["c"], ["y"])], {"w": weights(2, 2, 2, 2)},
                                                [1, 2, 4, 4], 17), [1, 2, 4, 4], True))
    # MobileNetV2's depthwise convolution and ReLU6 (Clip(0, 6)).
    dw = {"w": 3 * weights(4, 1, 3, 3), "lo": np.array(0, np.float32), "hi": np.array(6, np.float32)}
    out.append(("depthwise_relu6_mobilenet", model([
        helper.make_node("Conv", ["x", "w"], ["c"], group=4, pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["c", "lo", "hi"], ["r"]), helper.make_node("Flatten", ["r"], ["y"])],
        dw, [1, 4, 4, 4], 17), [1, 4, 4, 4], False))
    # What real exports of other CNNs hold that eec lacks (each refused with a message naming it):
    # EfficientNet's SiLU (x * sigmoid(x)), SqueezeNet's and GoogLeNet's ceil_mode pooling with a
    # partial window, ShuffleNet's channel shuffle.
    out.append(("missing_silu_efficientnet", model([
        helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", ["x", "s"], ["m"]),
        helper.make_node("Flatten", ["m"], ["y"])], {}, [1, 2, 3, 3], 17), [1, 2, 3, 3], True))
    out.append(("missing_ceil_mode_squeezenet", model([
        helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        helper.make_node("Flatten", ["p"], ["y"])], {}, [1, 2, 8, 8], 17), [1, 2, 8, 8], True))
    out.append(("missing_channel_shuffle_shufflenet", model([
        helper.make_node("Reshape", ["x", "g"], ["r"]), helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["t", "back"], ["b"]), helper.make_node("Flatten", ["b"], ["y"])],
        {"g": i64(1, 2, 2, 3, 3), "back": i64(1, 4, 3, 3)}, [1, 4, 3, 3], 17), [1, 4, 3, 3], True))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eec", default=".build/debug/eec")
    ap.add_argument("--keep", help="write the fixtures into this folder and keep them")
    ap.add_argument("--c", action="store_true", help="also run the generated C (eec run --backend c)")
    args = ap.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="eec-onnx-fixtures-")
    os.makedirs(folder, exist_ok=True)
    failures = 0
    for name, m, shape, expect_error in fixtures():
        path = os.path.join(folder, name + ".onnx")
        onnx.save(m, path)
        eeir = os.path.join(folder, name + ".eeir")
        r = subprocess.run([args.eec, "import", path, "-o", eeir], capture_output=True, text=True)
        if expect_error:
            ok = r.returncode == 1 and "error:" in r.stderr
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {r.stderr.strip()}")
            failures += not ok
            continue
        if r.returncode != 0:
            print(f"FAIL {name}: import: {r.stderr.strip()}")
            failures += 1
            continue
        x = rng.uniform(-2, 2, [4] + shape[1:]).astype(np.float32)
        xp = os.path.join(folder, name + "_x.npy")
        np.save(xp, x)
        session = ort.InferenceSession(path)
        expected = np.concatenate([session.run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))])
        for backend in ["interp"] + (["c"] if args.c else []):
            yp = os.path.join(folder, f"{name}_{backend}.npy")
            r = subprocess.run([args.eec, "run", eeir, "--weights", eeir[:-5] + ".safetensors", "--data", xp,
                                "--output", yp, "--backend", backend], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {name} ({backend}): run: {r.stderr.strip()}")
                failures += 1
                continue
            diff = float(np.abs(np.load(yp) - expected.reshape(len(x), -1)).max())
            ok = diff <= 1e-4
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name} ({backend}): max abs diff vs ONNX Runtime {diff:.2e}")
    print(f"{failures} failure(s); fixtures in {folder}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
