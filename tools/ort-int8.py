#!/usr/bin/env python3
"""ONNX Runtime's int8 beside eec's, on the shared ResNet-44 (optional dev tool; needs
`pip install onnxruntime onnx numpy`; swift test never runs it).

Quantizes ../shared/models/resnet44a.onnx with onnxruntime's own quantize_static (QDQ, weights
int8 per channel, activations uint8, min/max calibration) on the same 1,000 training images
`eec quantize --samples 0:1000` uses, reports float32 and int8 top-1 on the 3,000 test images,
times both at batch 1 on one thread (median of --runs), then runs `eec bench-c` on
examples/resnet44a.eeir in the same run and prints the latencies side by side.

    tools/ort-int8.py [--eec .build/release/eec] [--runs 300]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)


def images(name, count):
    x = np.load(os.path.join(SHARED, "data", "cifar10", name), mmap_mode="r")[:count]
    return ((x.astype(np.float32) / 255).transpose(0, 3, 1, 2) - MEAN) / STD


class Reader(CalibrationDataReader):
    def __init__(self, x):
        self.it = iter([{"input": x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self.it, None)


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def top1(s, x, y):
    right = 0
    for i in range(len(x)):
        right += int(np.argmax(s.run(None, {"input": x[i:i + 1]})[0]) == y[i])
    return 100.0 * right / len(x)


def median_us(s, x, runs):
    feed = {"input": x[:1]}
    for _ in range(10):
        s.run(None, feed)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        s.run(None, feed)
        times.append(time.perf_counter() - t)
    return 1e6 * float(np.median(times))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--eec", default=os.path.join(ROOT, ".build", "release", "eec"))
    p.add_argument("--runs", type=int, default=300)
    a = p.parse_args()
    model = os.path.join(SHARED, "models", "resnet44a.onnx")
    calibration = images("train_x_0_24999.npy", 1000)
    test = images("test_x_0_2999.npy", 3000)
    labels = np.load(os.path.join(SHARED, "data", "cifar10", "test_y_0_2999.npy"))
    with tempfile.TemporaryDirectory() as work:
        prepared, quantized = os.path.join(work, "pre.onnx"), os.path.join(work, "int8.onnx")
        quant_pre_process(model, prepared)
        start = time.perf_counter()
        quantize_static(prepared, quantized, Reader(calibration), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        seconds = time.perf_counter() - start
        f, q = session(model), session(quantized)
        print(f"onnxruntime {ort.__version__}: quantize_static (QDQ, per-channel int8 weights, uint8 activations, "
              f"min/max) on 1,000 training images in {seconds:.1f} s; int8 model {os.path.getsize(quantized):,} bytes "
              f"(float {os.path.getsize(model):,})")
        print(f"top-1 on 3,000 test images: float32 {top1(f, test, labels):.2f} %, int8 {top1(q, test, labels):.2f} %")
        # The two in turns, so both see the same load.
        ft, qt = [], []
        for _ in range(3):
            ft.append(median_us(f, test, a.runs // 3))
            qt.append(median_us(q, test, a.runs // 3))
        fu, qu = float(np.median(ft)), float(np.median(qt))
        print(f"onnxruntime, batch 1, one thread: float32 {fu:.1f} us, int8 {qu:.1f} us ({fu / qu:.2f}x)")
    if not os.path.exists(a.eec):
        sys.exit(f"{a.eec}: no eec binary (swift build -c release), so no side-by-side figure")
    out = subprocess.run([a.eec, "bench-c", "--runs", str(a.runs), os.path.join(ROOT, "examples", "resnet44a.eeir")],
                         capture_output=True, text=True, cwd=ROOT).stdout
    print(out, end="")
    row = next(line for line in out.splitlines() if line.startswith("resnet44a"))
    cells = row.split()
    eec_float, eec_int8 = float(cells[2]), float(cells[5])
    print(f"side by side: eec int8 {eec_int8:.1f} us vs onnxruntime int8 {qu:.1f} us: eec {qu / eec_int8:.2f}x onnxruntime's speed; "
          f"float32: eec {eec_float:.1f} us vs onnxruntime {fu:.1f} us")


if __name__ == "__main__":
    main()
