#!/usr/bin/env python3
"""Generate the example backbones in examples/*.eeir (see docs/IR.md).

Usage: python3 tools/gen_examples.py [OUTDIR]      (default: <repo>/examples)

Standard library only. Every file is built with a small graph builder, printed in the
canonical form of docs/IR.md, then read back from its text by an independent parser that
infers shapes and counts parameters, MACs and EENets-style cost; those totals are printed
and checked against the published figures for each architecture.

Cost rules:
  macs    conv2d = kh*kw*(Cin/groups)*Cout*Hout*Wout (+ Cout*Hout*Wout with bias);
          linear = in*out (bias not counted); every other op 0.
  eenets  macs + 2*numel per batchnorm + numel per relu + numel(input) per
          maxpool / avgpool / global_avg_pool; add, concat, flatten, softmax, sigmoid,
          subsample and channel_pad cost 0.
  params  conv weight (+ bias), batchnorm weight + bias (running stats not counted),
          linear weight + bias.
"""

import os
import re
import sys

# ---------------------------------------------------------------------------
# Op table: attribute order and defaults, as in docs/IR.md.
# A default of REQUIRED means the attribute has no default and is always printed;
# the string "=kernel" means "defaults to the value of kernel".

REQUIRED = object()

OPS = {
    "conv2d": [("out", REQUIRED), ("kernel", REQUIRED), ("stride", 1), ("pad", 0),
               ("dilation", 1), ("groups", 1), ("bias", True)],
    "batchnorm": [("eps", 1e-5)],
    "relu": [],
    "add": [],
    "concat": [],
    "maxpool": [("kernel", REQUIRED), ("stride", "=kernel"), ("pad", 0)],
    "avgpool": [("kernel", REQUIRED), ("stride", "=kernel"), ("pad", 0)],
    "global_avg_pool": [],
    "flatten": [],
    "linear": [("out", REQUIRED), ("bias", True)],
    "softmax": [],
    "sigmoid": [],
    "subsample": [("stride", REQUIRED)],
    "channel_pad": [("before", REQUIRED), ("after", REQUIRED)],
}


def fmt_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):
        if len(v) == 2 and v[0] == v[1]:
            return str(v[0])
        return "[" + ", ".join(str(x) for x in v) + "]"
    raise TypeError(v)


def norm_value(v):
    """[h, w] with h == w compares equal to h."""
    if isinstance(v, (list, tuple)) and len(v) == 2 and v[0] == v[1]:
        return v[0]
    return v


def fmt_node(name, op, inputs, attrs):
    spec = OPS[op]
    unknown = set(attrs) - {k for k, _ in spec}
    assert not unknown, (name, op, unknown)
    parts = list(inputs)
    for key, default in spec:
        if key not in attrs:
            assert default is not REQUIRED, (name, op, key)
            continue
        v = norm_value(attrs[key])
        if default == "=kernel":
            default = norm_value(attrs["kernel"])
        if default is not REQUIRED and v == default and type(v) == type(default):
            continue
        parts.append("%s=%s" % (key, fmt_value(v)))
    return "%s = %s(%s)" % (name, op, ", ".join(parts))


# ---------------------------------------------------------------------------
# Graph builder


class Model:
    def __init__(self, name, header):
        self.name = name
        self.lines = ["# " + h if h else "#" for h in header]
        self.lines += ["model " + name, "input x: f32[1,3,32,32]", ""]
        self.defined = {"x"}

    def comment(self, text):
        if self.lines[-1] != "":
            self.lines.append("")
        self.lines.append("# " + text)

    def blank(self):
        if self.lines[-1] != "":
            self.lines.append("")

    def node(self, name, op, *inputs, **attrs):
        assert name not in self.defined, name
        for i in inputs:
            assert i in self.defined, (name, i)
        self.defined.add(name)
        self.lines.append(fmt_node(name, op, inputs, attrs))
        return name

    def output(self, name):
        assert name in self.defined
        self.lines.append("output " + name)

    def text(self):
        return "\n".join(self.lines) + "\n"


# ---------------------------------------------------------------------------
# Architectures

AKAMASTER = "state_dict names of akamaster/pytorch_resnet_cifar10."


def resnet_cifar(depth, option):
    assert (depth - 2) % 6 == 0
    n = (depth - 2) // 6
    name = "resnet%d%s" % (depth, "a" if option == "A" else "")
    if option == "A":
        sc = "option-A shortcuts (x[:, :, ::2, ::2] zero-padded with C/4 channels each side)"
    else:
        sc = "option-B shortcuts (1x1 conv stride 2 + BN, as shortcut.0 / shortcut.1)"
    m = Model(name, [
        "CIFAR-10 ResNet-%d (He et al. 2016, 3 stages of %d basic blocks, 16/32/64 channels)," % (depth, n),
        sc + ".",
        "Node names are the PyTorch " + AKAMASTER,
    ])
    m.comment("stem: 3 -> 16 channels")
    m.node("conv1", "conv2d", "x", out=16, kernel=3, pad=1, bias=False)
    m.node("bn1", "batchnorm", "conv1")
    cur = m.node("relu1", "relu", "bn1")
    cin = 16
    for stage, cout in enumerate([16, 32, 64], start=1):
        for i in range(n):
            stride = 2 if (stage > 1 and i == 0) else 1
            b = "layer%d.%d" % (stage, i)
            m.comment("%s: %d -> %d channels%s" % (b, cin, cout,
                                                   ", stride %d" % stride if stride != 1 else ""))
            m.node(b + ".conv1", "conv2d", cur, out=cout, kernel=3, stride=stride, pad=1, bias=False)
            m.node(b + ".bn1", "batchnorm", b + ".conv1")
            m.node(b + ".relu1", "relu", b + ".bn1")
            m.node(b + ".conv2", "conv2d", b + ".relu1", out=cout, kernel=3, pad=1, bias=False)
            m.node(b + ".bn2", "batchnorm", b + ".conv2")
            if stride != 1 or cin != cout:
                if option == "A":
                    pad = (cout - cin) // 2
                    assert cin + 2 * pad == cout
                    m.node(b + ".shortcut.subsample", "subsample", cur, stride=stride)
                    short = m.node(b + ".shortcut", "channel_pad", b + ".shortcut.subsample",
                                   before=pad, after=pad)
                else:
                    m.node(b + ".shortcut.0", "conv2d", cur, out=cout, kernel=1, stride=stride, bias=False)
                    short = m.node(b + ".shortcut.1", "batchnorm", b + ".shortcut.0")
            else:
                short = cur
            m.node(b + ".add", "add", b + ".bn2", short)
            cur = m.node(b, "relu", b + ".add")
            cin = cout
    m.comment("head: global average pool, linear 64 -> 10")
    m.node("pool", "global_avg_pool", cur)
    m.node("flat", "flatten", "pool")
    m.node("linear", "linear", "flat", out=10)
    m.output("linear")
    return m


def vgg19():
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
           512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
    m = Model("vgg19", [
        "CIFAR-10 VGG-19 with batch norm (Simonyan & Zisserman 2015), 32x32 input:",
        "conv3x3 pad 1 (with bias) + BN + ReLU per layer, maxpool 2 after each stage, linear 512 -> 10.",
        "Node names are the PyTorch state_dict names of kuangliu/pytorch-cifar models/vgg.py",
        "(features.<i> as nn.Sequential indexes it, classifier); its trailing AvgPool2d(1, 1),",
        "a no-op, is left out.",
    ])
    idx = 0
    cur = "x"
    cin = 3
    stage = 1
    m.comment("stage 1")
    for v in cfg:
        if v == "M":
            cur = m.node("features.%d" % idx, "maxpool", cur, kernel=2)
            idx += 1
            stage += 1
            if stage <= 5:
                m.comment("stage %d" % stage)
            continue
        conv = m.node("features.%d" % idx, "conv2d", cur, out=v, kernel=3, pad=1)
        bn = m.node("features.%d" % (idx + 1), "batchnorm", conv)
        cur = m.node("features.%d" % (idx + 2), "relu", bn)
        idx += 3
        cin = v
    m.comment("classifier: linear %d -> 10" % cin)
    m.node("flat", "flatten", cur)
    m.node("classifier", "linear", "flat", out=10)
    m.output("classifier")
    return m


def densenet121():
    growth = 32
    blocks = [6, 12, 24, 16]
    m = Model("densenet121", [
        "CIFAR-10 DenseNet-121 (Huang et al. 2017), growth rate 32, dense blocks of 6/12/24/16",
        "bottleneck layers (BN-ReLU-conv1x1 -> 128, BN-ReLU-conv3x3 -> 32, concat [new, input]),",
        "transitions BN-ReLU-conv1x1 (compression 0.5)-avgpool 2.",
        "Node names are the PyTorch state_dict names of kuangliu/pytorch-cifar models/densenet.py",
        "(conv1, dense{1..4}.{i}.bn1/conv1/bn2/conv2, trans{1..3}.bn/conv, bn, linear).",
    ])
    c = 2 * growth
    m.comment("stem: 3 -> %d channels" % c)
    cur = m.node("conv1", "conv2d", "x", out=c, kernel=3, pad=1, bias=False)
    for d, nlayers in enumerate(blocks, start=1):
        for i in range(nlayers):
            b = "dense%d.%d" % (d, i)
            m.comment("%s: %d -> %d channels" % (b, c, c + growth))
            m.node(b + ".bn1", "batchnorm", cur)
            m.node(b + ".relu1", "relu", b + ".bn1")
            m.node(b + ".conv1", "conv2d", b + ".relu1", out=4 * growth, kernel=1, bias=False)
            m.node(b + ".bn2", "batchnorm", b + ".conv1")
            m.node(b + ".relu2", "relu", b + ".bn2")
            m.node(b + ".conv2", "conv2d", b + ".relu2", out=growth, kernel=3, pad=1, bias=False)
            cur = m.node(b, "concat", b + ".conv2", cur)
            c += growth
        if d < len(blocks):
            t = "trans%d" % d
            cout = c // 2
            m.comment("%s: %d -> %d channels, avgpool 2" % (t, c, cout))
            m.node(t + ".bn", "batchnorm", cur)
            m.node(t + ".relu", "relu", t + ".bn")
            m.node(t + ".conv", "conv2d", t + ".relu", out=cout, kernel=1, bias=False)
            cur = m.node(t + ".pool", "avgpool", t + ".conv", kernel=2)
            c = cout
    m.comment("head: BN-ReLU, global average pool (4x4), linear %d -> 10" % c)
    m.node("bn", "batchnorm", cur)
    m.node("relu", "relu", "bn")
    m.node("pool", "global_avg_pool", "relu")
    m.node("flat", "flatten", "pool")
    m.node("linear", "linear", "flat", out=10)
    m.output("linear")
    return m


# ---------------------------------------------------------------------------
# Independent reader: parse the printed text, infer shapes, count costs.

NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*"
NODE_RE = re.compile(r"^(%s) = ([a-z_0-9]+)\((.*)\)$" % NAME)
INPUT_RE = re.compile(r"^input (%s): f32\[(\d+),(\d+),(\d+),(\d+)\]$" % NAME)


def parse_value(s):
    s = s.strip()
    if s == "true":
        return True
    if s == "false":
        return False
    if s.startswith("["):
        return [int(t) for t in s[1:-1].split(",")]
    if re.fullmatch(r"-?[0-9]+", s):
        return int(s)
    return float(s)


def split_args(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def pair(v):
    return (v[0], v[1]) if isinstance(v, list) else (v, v)


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def analyse(text):
    """Return (params, macs, eenets, canonical re-print) computed from the text alone."""
    shapes = {}
    params = macs = eenets = 0
    reprint = []
    model = output = None
    for raw in text.split("\n"):
        line = raw.strip()
        if line == "" or line.startswith("#"):
            reprint.append(raw)
            continue
        assert "#" not in line, line
        if line.startswith("model "):
            assert model is None and not shapes
            model = line[6:]
            reprint.append(line)
            continue
        mi = INPUT_RE.match(line)
        if mi:
            n, c, h, w = map(int, mi.group(2, 3, 4, 5))
            assert n == 1
            shapes[mi.group(1)] = (n, c, h, w)
            reprint.append(line)
            continue
        if line.startswith("output "):
            output = line[7:]
            assert output in shapes
            reprint.append(line)
            continue
        mn = NODE_RE.match(line)
        assert mn, line
        name, op, args = mn.group(1), mn.group(2), split_args(mn.group(3))
        assert name not in shapes, name
        assert output is None, "statement after output"
        inputs = [a for a in args if "=" not in a]
        attrs = {}
        for a in args:
            if "=" in a:
                k, v = a.split("=", 1)
                attrs[k] = parse_value(v)
        assert args == inputs + [a for a in args if "=" in a], line
        for i in inputs:
            assert i in shapes, (line, i)
        ins = [shapes[i] for i in inputs]
        x = ins[0]
        if op == "conv2d":
            n, c, h, w = x
            kh, kw = pair(attrs["kernel"])
            sh, sw = pair(attrs.get("stride", 1))
            ph, pw = pair(attrs.get("pad", 0))
            dh, dw = pair(attrs.get("dilation", 1))
            g = attrs.get("groups", 1)
            bias = attrs.get("bias", True)
            co = attrs["out"]
            assert c % g == 0 and co % g == 0
            ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
            wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
            y = (n, co, ho, wo)
            macs_here = kh * kw * (c // g) * co * ho * wo + (co * ho * wo if bias else 0)
            macs += macs_here
            eenets += macs_here
            params += co * (c // g) * kh * kw + (co if bias else 0)
        elif op == "batchnorm":
            y = x
            params += 2 * x[1]
            eenets += 2 * numel(x)
        elif op == "relu":
            y = x
            eenets += numel(x)
        elif op in ("softmax", "sigmoid"):
            y = x
        elif op == "add":
            assert len(ins) == 2 and ins[0] == ins[1], line
            y = x
        elif op == "concat":
            assert all(s[0] == x[0] and s[2:] == x[2:] for s in ins), line
            y = (x[0], sum(s[1] for s in ins), x[2], x[3])
        elif op in ("maxpool", "avgpool"):
            n, c, h, w = x
            kh, kw = pair(attrs["kernel"])
            sh, sw = pair(attrs.get("stride", attrs["kernel"]))
            ph, pw = pair(attrs.get("pad", 0))
            y = (n, c, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
            eenets += numel(x)
        elif op == "global_avg_pool":
            y = (x[0], x[1], 1, 1)
            eenets += numel(x)
        elif op == "flatten":
            y = (x[0], numel(x[1:]))
        elif op == "linear":
            assert len(x) == 2, line
            bias = attrs.get("bias", True)
            y = (x[0], attrs["out"])
            macs += x[1] * attrs["out"]
            eenets += x[1] * attrs["out"]
            params += x[1] * attrs["out"] + (attrs["out"] if bias else 0)
        elif op == "subsample":
            s = attrs["stride"]
            y = (x[0], x[1], -(-x[2] // s), -(-x[3] // s))
        elif op == "channel_pad":
            y = (x[0], x[1] + attrs["before"] + attrs["after"], x[2], x[3])
        else:
            raise ValueError("unknown op " + op)
        shapes[name] = y
        reprint.append(fmt_node(name, op, inputs, attrs))
    assert model is not None and output is not None
    assert len(shapes[output]) == 2 and shapes[output][1] == 10, shapes[output]
    return params, macs, eenets, "\n".join(reprint)


# ---------------------------------------------------------------------------

# (builder, params, macs, eenets); macs/eenets as int = exact, as float = within 0.1 %.
# The published VGG-19 figure (398.14M) leaves out conv biases; with the bias term of the
# rules above it is 398,439,424 (+303,104, 0.076 %), inside the tolerance.
TARGETS = {
    "resnet20": (lambda: resnet_cifar(20, "B"), 272474, 40813184, 41407104),
    "resnet20a": (lambda: resnet_cifar(20, "A"), 269722, 40551040, 41120384),
    "resnet32": (lambda: resnet_cifar(32, "B"), 466906, 69124736, 70062720),
    "resnet44a": (lambda: resnet_cifar(44, "A"), 658586, 97174144, 98431616),
    "resnet110": (lambda: resnet_cifar(110, "B"), 1730714, 253149824, 256324224),
    "vgg19": (vgg19, 20040522, 398.14e6, None),
    "densenet121": (densenet121, 6956298, 888.35e6, None),
}


def check(label, got, want):
    if want is None:
        return True
    if isinstance(want, float):
        ok = abs(got - want) <= 1e-3 * want
    else:
        ok = got == want
    if not ok:
        print("  MISMATCH %s: got %s, want %s" % (label, format(got, ","), want), file=sys.stderr)
    return ok


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "examples")
    os.makedirs(outdir, exist_ok=True)
    ok = True
    print("%-12s %12s %14s %14s" % ("model", "params", "macs", "eenets"))
    for stem, (build, p_want, m_want, e_want) in TARGETS.items():
        m = build()
        assert m.name == stem
        text = m.text()
        params, macs, eenets, reprint = analyse(text)
        assert reprint == text, "%s: not in canonical form" % stem
        print("%-12s %12s %14s %14s" % (stem, format(params, ","), format(macs, ","), format(eenets, ",")))
        ok &= check(stem + " params", params, p_want)
        ok &= check(stem + " macs", macs, m_want)
        ok &= check(stem + " eenets", eenets, e_want)
        with open(os.path.join(outdir, stem + ".eeir"), "w") as f:
            f.write(text)
    assert ok, "totals do not match the targets"
    print("all totals match; wrote %d files to %s" % (len(TARGETS), outdir))


if __name__ == "__main__":
    main()
