"""DotProductWithPadding and its gradient op against per-row loops written from
Caffe2's definition (padding and replication), with the shapes of Caffe2's
shape_inference_test.py testShapeInferenceDistances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.workspace import Workspace


def loop_forward(x, y, pad, replicate):
    n = x.shape[0]
    xs, ys = x.reshape(n, -1), y.reshape(n, -1)
    out = np.zeros(n, x.dtype)
    for i in range(n):
        a, b = list(xs[i]), list(ys[i])
        if replicate:
            lng, sht = (a, b) if len(a) > len(b) else (b, a)
            total = 0.0
            for j in range(len(lng) // len(sht)):
                total += sum(p * q for p, q in zip(lng[j * len(sht):], sht))
        else:
            d = min(len(a), len(b))
            total = sum(a[k] * b[k] for k in range(d))
            total += pad * sum((a if len(a) > len(b) else b)[d:])
        out[i] = total
    return out


def loop_backward(x, y, dz, pad, replicate):
    n = x.shape[0]
    xs, ys = x.reshape(n, -1), y.reshape(n, -1)
    gx, gy = np.zeros_like(xs), np.zeros_like(ys)
    for i in range(n):
        if replicate:
            x_longer = xs.shape[1] > ys.shape[1]
            lng, sht = (xs, ys) if x_longer else (ys, xs)
            glng, gsht = (gx, gy) if x_longer else (gy, gx)
            ds = sht.shape[1]
            for j in range(lng.shape[1] // ds):
                for k in range(ds):
                    glng[i, j * ds + k] = dz[i] * sht[i, k]
                    gsht[i, k] += dz[i] * lng[i, j * ds + k]
        else:
            d = min(xs.shape[1], ys.shape[1])
            for k in range(xs.shape[1]):
                gx[i, k] = dz[i] * ys[i, k] if k < d else dz[i] * pad
            for k in range(ys.shape[1]):
                gy[i, k] = dz[i] * xs[i, k] if k < d else dz[i] * pad
    return [gx.reshape(x.shape), gy.reshape(y.shape)]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 4), ds=st.integers(1, 3), k=st.integers(1, 3),
       extra=st.integers(0, 2), replicate=st.booleans(), x_longer=st.booleans(),
       pad=st.sampled_from([0.0, 0.5, -2.0]), seed=st.integers(0, 2**16))
def test_matches_loops(n, ds, k, extra, replicate, x_longer, pad, seed):
    rng = np.random.default_rng(seed)
    dl = ds * k + (0 if replicate else extra)
    x = rng.standard_normal((n, dl if x_longer else ds)).astype(np.float32)
    y = rng.standard_normal((n, ds if x_longer else dl)).astype(np.float32)
    op = CreateOperator("DotProductWithPadding", ["X", "Y"], ["Z"], pad_value=pad,
                        replicate=replicate)
    testing.check_reference(op, [x, y], lambda x, y: [loop_forward(x, y, pad, replicate)],
                            rtol=1e-5, atol=1e-5)
    dz = rng.standard_normal(n).astype(np.float32)
    grad = CreateOperator("DotProductWithPaddingGradient", ["X", "Y", "dZ"], ["dX", "dY"],
                          pad_value=pad, replicate=replicate)
    testing.check_reference(grad, [x, y, dz],
                            lambda *a: loop_backward(x, y, dz, pad, replicate),
                            rtol=1e-5, atol=1e-5)


def test_partial_chunk_ignored_and_shapes():
    x = np.array([[1, 2, 3, 4, 5]], np.float32)  # 5 = 2 chunks of 2 + 1 left over
    op = CreateOperator("DotProductWithPadding", ["X", "Y"], ["Z"], replicate=True)
    testing.check_reference(op, [x, np.array([[1, 1]], np.float32)],
                            lambda x, y: [np.array([10], np.float32)])
    f4 = np.dtype(np.float32)
    assert infer_op(op, [TensorShape((10, 5), f4), TensorShape((10, 4), f4)]) == [
        TensorShape((10,), f4)]
    empty = np.zeros((0, 3), np.float32)
    testing.check_reference(op, [empty, np.zeros((0, 2), np.float32)],
                            lambda x, y: [np.zeros(0, np.float32)])


def test_errors():
    op = CreateOperator("DotProductWithPadding", ["X", "Y"], ["Z"])
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones((3, 3), np.float32)],
                         ShapeError, "X.dim32")
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones(2, np.float32)],
                         ShapeError, "X.dim")
    rep = CreateOperator("DotProductWithPadding", ["X", "Y"], ["Z"], replicate=True)
    testing.check_raises(rep, [np.ones((2, 3), np.float32), np.ones((2, 0), np.float32)],
                         EnforceError, "cannot replicate an empty row")
    grad = CreateOperator("DotProductWithPaddingGradient", ["X", "Y", "dZ"], ["dX", "dY"],
                          replicate=True)
    testing.check_raises(grad, [np.ones((1, 3), np.float32), np.ones((1, 2), np.float32),
                                np.ones(1, np.float32)], EnforceError, "DX % DY == 0")


@pytest.mark.parametrize("replicate", [False, True])
def test_gradient_ops_and_numeric(replicate):
    op = CreateOperator("DotProductWithPadding", ["X", "Y"], ["Z"], pad_value=1.5,
                        replicate=replicate)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Z": "Z_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("DotProductWithPaddingGradient", ["X", "Y", "Z_grad"], ["X_grad", "Y_grad"])]
    # Caffe2's maker sets pad_value and replicate, then the forward arguments follow
    assert [(a.name, a.f if a.name == "pad_value" else a.i) for a in ops[0].arg] == [
        ("pad_value", 1.5), ("replicate", int(replicate)), ("pad_value", 1.5),
        ("replicate", int(replicate))]
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2, 4)), rng.standard_normal((2, 2))
    testing.check_gradient(op, [x, y], [0, 1])
    ws = Workspace()  # the backward op runs in a net with the duplicated arguments
    for name, v in (("X", x), ("Y", y), ("Z_grad", np.ones(2))):
        ws.feed_blob(name, v)
    ws.run_operator_once(op)
    ws.run_operator_once(ops[0])
    assert ws.fetch_blob("X_grad").shape == (2, 4)
