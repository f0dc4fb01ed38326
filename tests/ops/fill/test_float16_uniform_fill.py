from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, EnforceError, SchemaError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

OP = "Float16UniformFill"


def run(op):
    ws = Workspace()
    ws.run_operator_once(op)
    return ws.fetch_blob(op.output[0])


def naive_uniform16(shape, lo, hi, seed):
    """Row by row, one float32 draw per element mapped onto [lo, hi), then float16."""
    rng = np.random.default_rng(seed)
    lo, hi = np.float32(lo), np.float32(hi)
    out = np.empty(shape, np.float16)
    for idx in np.ndindex(*shape):
        v = np.float32(rng.random(dtype=np.float32) * np.float32(hi - lo)) + lo
        out[idx] = np.float16(min(v, np.nextafter(hi, lo)))
    return out


@pytest.mark.parametrize(
    "shape, lo, hi",
    [
        ([4, 3], 0.0, 1.0),
        ([5], -20.0, 20.0),
        ([2, 3, 2], 1.5, 1.75),
        ([3, 0], 0.0, 1.0),
    ],
)
def test_matches_naive_draws(shape, lo, hi):
    y = run(CreateOperator(OP, [], ["Y"], shape=shape, min=lo, max=hi, random_seed=4))
    np.testing.assert_array_equal(y, naive_uniform16(tuple(shape), lo, hi, 4))
    assert y.dtype == np.float16 and y.shape == tuple(shape)


def test_defaults_and_seeds():
    y = run(CreateOperator(OP, [], ["Y"], shape=[1000], random_seed=0))
    assert y.min() >= 0 and y.max() <= 1
    a = run(CreateOperator(OP, [], ["Y"], shape=[50], random_seed=1))
    b = run(CreateOperator(OP, [], ["Y"], shape=[50], random_seed=1))
    c = run(CreateOperator(OP, [], ["Y"], shape=[50], random_seed=2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@settings(max_examples=6, deadline=None)
@given(
    lo=st.integers(0, 5),
    width=st.integers(1, 10),
    emb_size=st.sampled_from((10000, 20000)),
    dim_size=st.sampled_from((16, 32)),
)
def test_caffe2_distribution_case(lo, width, emb_size, dim_size):
    """Caffe2's test_fp16_uniformfill_op: float16 out, mean, variance and bounds."""
    op = CreateOperator(
        OP,
        [],
        ["out"],
        shape=[emb_size, dim_size],
        min=float(lo),
        max=float(lo + width),
    )
    y = run(op)
    assert y.shape == (emb_size, dim_size) and y.dtype.name == "float16"
    assert abs(np.mean(y, dtype=np.float32) - (lo + width / 2)) < 0.1
    assert abs(np.var(y, dtype=np.float32) - width * width / 12) < 0.1
    assert y.min() >= lo and y.max() <= lo + width


def test_histogram_is_flat():
    y = run(
        CreateOperator(
            OP, [], ["Y"], shape=[200, 100], min=-4.0, max=4.0, random_seed=7
        )
    ).astype(np.float64)
    n = y.size
    bins = np.histogram(y, bins=8, range=(-4, 4))[0] / n
    assert np.all(np.abs(bins - 1 / 8) < 6 * np.sqrt((1 / 8) * (7 / 8) / n))


def test_example_and_shape_function():
    ex = registry.lookup(OP).example
    assert not ex.exact
    op = CreateOperator(OP, [], ["output"], **ex.args)
    y = run(op)
    want = ex.outputs["output"]
    assert (y.shape, y.dtype) == (want.shape, want.dtype)
    assert infer_op(op, []) == [shape_of(want)] == [TensorShape((2, 3), np.float16)]


def test_errors():
    check_raises(
        CreateOperator(OP, [], ["Y"], shape=[2], min=1.0, max=1.0),
        [],
        EnforceError,
        "min_ < max_. 1 vs 1. Max value should be bigger than min value.",
    )
    check_raises(
        CreateOperator(OP, [], ["Y"], shape=[2], min=2.5, max=-1.0),
        [],
        EnforceError,
        "2.5 vs -1",
    )
    check_raises(CreateOperator(OP, [], ["Y"]), [], ShapeError, "at least 1 dimension")
    check_raises(
        CreateOperator(OP, [], ["Y"], shape=[0, 3]),
        [],
        EnforceError,
        "The input shape should have the first dimension greater than 0",
    )
    check_raises(
        CreateOperator(OP, [], ["Y"], shape=[2, -3]),
        [],
        ShapeError,
        "cannot be negative",
    )
    check_raises(
        CreateOperator(OP, [], ["Y"], shape=5), [], ArgumentError, "expected field ints"
    )
    check_raises(
        CreateOperator(OP, ["X"], ["Y"], shape=[2]),
        [np.zeros(2)],
        SchemaError,
        "Input size 1 not in range",
    )


def test_no_gradient():
    assert registry.gradient_entry(OP).kind == registry.NO_GRADIENT
    ops, _grads = GradientRegistry.GetBackwardPass(
        [CreateOperator(OP, [], ["Y"], shape=[2])], {"Y": "Y_grad"}
    )
    assert ops == []
