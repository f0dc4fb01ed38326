"""Section: convolution and a whole ResNet-50, against the same computation written
directly in numpy (im2col + one matmul per convolution).

- Conv 3x3, 64 -> 64 channels on a 56 x 56 image (batch 1): the Conv kernel against
  an all-at-once im2col and matmul (target: at most 2x its time), and the kernel's
  peak extra memory against the activation (target: at most 3x).
- ResNet-50 inference on one 224 x 224 image: the model zoo predict net (from
  shared/realnets when it is beside the checkout) with random weights of ResNet-50's
  real widths, run by caffe2lite, against a direct numpy interpreter of the same ops
  (target: at most 2x). Its peak memory is reported against the largest activation:
  like Caffe2 without its memonger, the workspace keeps every blob of the net.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    Config,
    Row,
    Target,
    bound_kernel,
    compare,
    measure,
    missing,
    operator_def,
    peak_extra_bytes,
    unavailable,
)

TIME_TARGET = Target(0.5)  # yardstick / caffe2lite >= 0.5: within 2x
MEMORY_TARGET = Target(3.0, at_least=False)
ZOO = Path(__file__).resolve().parents[2] / "shared" / "realnets" / "model_zoo"


def _im2col_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int,
                 pad: int) -> np.ndarray:
    """NCHW convolution as one im2col matrix times the filter matrix."""
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]
    oh, ow = win.shape[2:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    y = (cols @ w.reshape(m, -1).T).reshape(n, oh, ow, m).transpose(0, 3, 1, 2)
    return y + b.reshape(1, m, 1, 1) if b is not None else y


def conv_rows(config: Config) -> list[Row]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 64, 56, 56)).astype(np.float32)
    w = (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    kernel, kwargs = bound_kernel(operator_def("Conv", ["X", "W", "b"], ["Y"], kernel=3, pad=1))
    (y,) = kernel(x, w, b, **kwargs)
    np.testing.assert_allclose(y, _im2col_conv(x, w, b, 1, 1), rtol=1e-3, atol=1e-3)
    t = measure({"c2l": lambda: kernel(x, w, b, **kwargs),
                 "im2col": lambda: _im2col_conv(x, w, b, 1, 1)}, config)
    peak, _ = peak_extra_bytes(lambda: kernel(x, w, b, **kwargs))
    case = "Conv 3x3 64->64 56x56"
    return [
        compare("vision", case, t["c2l"] * 1e3, "ms", "im2col+matmul", t["im2col"] * 1e3,
                TIME_TARGET),
        compare("vision", f"{case} peak extra", peak / 2**20, "MiB", "activation",
                x.nbytes / 2**20, MEMORY_TARGET, inverse=True),
    ]


# ResNet-50's widths by stage (branch2a/2b; branch2c and branch1 are 4x).
_STAGE = {"res2": 64, "res3": 128, "res4": 256, "res5": 512}


def _resnet50_width(blob: str) -> int:
    name = blob.split("/")[-1]
    if name.startswith("conv1"):
        return 64
    if name.startswith("pred"):
        return 1000
    stage = _STAGE[name[:4]]
    return stage * 4 if ("branch2c" in name or "branch1" in name) else stage


def resnet50(seed: int = 0) -> tuple[Any, dict[str, np.ndarray]]:
    """The zoo ResNet-50 predict net and random weights of its real shapes."""
    from caffe2lite.io.protoio import load_net

    net = load_net(ZOO / "resnet50__predict_net.pbtxt")
    rng = np.random.default_rng(seed)
    blobs: dict[str, np.ndarray] = {"gpu_0/data": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}
    channels = {"gpu_0/data": 3}
    for op in net.op:
        c = channels.get(op.input[0])
        if op.type == "Conv":
            m = _resnet50_width(op.input[1])
            k = next(a.i for a in op.arg if a.name == "kernel")
            blobs[op.input[1]] = (rng.standard_normal((m, c, k, k)) * np.sqrt(2 / (c * k * k))).astype(np.float32)
            channels[op.output[0]] = m
        elif op.type == "SpatialBN":
            s, bb, mean, var = op.input[1:5]
            blobs[s] = rng.uniform(0.5, 1, c).astype(np.float32)
            blobs[bb] = (0.1 * rng.standard_normal(c)).astype(np.float32)
            blobs[mean] = (0.1 * rng.standard_normal(c)).astype(np.float32)
            blobs[var] = rng.uniform(0.5, 1.5, c).astype(np.float32)
            channels[op.output[0]] = c
        elif op.type == "FC":
            k = 2048
            blobs[op.input[1]] = (rng.standard_normal((1000, k)) * np.sqrt(1 / k)).astype(np.float32)
            blobs[op.input[2]] = np.zeros(1000, np.float32)
        else:
            for out in op.output:
                channels[out] = c
    return net, blobs


def _arg(op, name, default):
    for a in op.arg:
        if a.name == name:
            return a.i if a.HasField("i") else a.f
    return default


def numpy_resnet(net, blobs: dict[str, np.ndarray]) -> np.ndarray:
    """The same net, op by op, written directly in numpy (NCHW, test-mode BN)."""
    env = dict(blobs)
    for op in net.op:
        ins = [env.get(i) for i in op.input]
        if op.type == "Conv":
            y = _im2col_conv(ins[0], ins[1], None, _arg(op, "stride", 1), _arg(op, "pad", 0))
        elif op.type == "SpatialBN":
            x, s, b, mean, var = ins
            alpha = s / np.sqrt(var + _arg(op, "epsilon", 1e-5))
            y = x * alpha.reshape(1, -1, 1, 1) + (b - alpha * mean).reshape(1, -1, 1, 1)
        elif op.type == "Relu":
            y = np.maximum(ins[0], 0)
        elif op.type == "Sum":
            y = ins[0] + ins[1]
        elif op.type in ("MaxPool", "AveragePool"):
            k, s, p = _arg(op, "kernel", 0), _arg(op, "stride", 1), _arg(op, "pad", 0)
            x = np.pad(ins[0], ((0, 0), (0, 0), (p, p), (p, p)),
                       constant_values=-np.inf if op.type == "MaxPool" else 0)
            win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
            y = win.max(axis=(4, 5)) if op.type == "MaxPool" else win.mean(axis=(4, 5))
        elif op.type == "FC":
            y = ins[0].reshape(ins[0].shape[0], -1) @ ins[1].T + ins[2]
        elif op.type == "Softmax":
            e = np.exp(ins[0] - ins[0].max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
        else:
            raise NotImplementedError(op.type)
        env[op.output[0]] = y.astype(np.float32, copy=False)
    return env[net.external_output[0]]


def resnet_rows(config: Config) -> list[Row]:
    if not (ZOO / "resnet50__predict_net.pbtxt").is_file():
        return [missing("vision", "ResNet-50 1x224x224", "shared/realnets is not beside the checkout")]
    from caffe2lite.workspace import Workspace

    net, blobs = resnet50()
    ws = Workspace()
    for name, value in blobs.items():
        ws.feed_blob(name, value)
    ws.create_net(net, overwrite=True)
    ws.run_net(net.name)
    got = ws.fetch_blob(net.external_output[0])
    np.testing.assert_allclose(got, numpy_resnet(net, blobs), rtol=1e-3, atol=1e-5)
    t = measure({"c2l": lambda: ws.run_net(net.name),
                 "numpy": lambda: numpy_resnet(net, blobs)},
                Config(repeats=max(1, min(config.repeats, 3)), min_sample=0.0))
    peak, _ = peak_extra_bytes(lambda: ws.run_net(net.name))
    largest = max(ws.fetch_blob(b).nbytes for b in ws.blobs if re.search(r"res|conv|pool", b)
                  and isinstance(ws.fetch_blob(b), np.ndarray))
    case = "ResNet-50 1x3x224x224"
    return [
        compare("vision", case, t["c2l"] * 1e3, "ms", "numpy im2col", t["numpy"] * 1e3,
                TIME_TARGET),
        compare("vision", f"{case} peak extra (re-run)", peak / 2**20, "MiB",
                "largest activation", largest / 2**20, note="every blob is kept, as in Caffe2",
                inverse=True),
    ]


def run(config: Config) -> list[Row]:
    """Conv and ResNet-50 rows."""
    why = unavailable("Conv", "SpatialBN", "MaxPool", "AveragePool")
    if why:
        return [missing("vision", "convolution", why)]
    rows = conv_rows(config)
    if config.table_rows >= 100_000:  # not on the tiny sizes of the smoke test
        rows += resnet_rows(config)
    return rows
