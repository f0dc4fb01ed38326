from __future__ import annotations

import math

import numpy as np
import pytest

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, SchemaError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace


def run(op, **feeds):
    ws = Workspace()
    for name, value in feeds.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(op)
    return ws.fetch_blob(op.output[0])


def naive_msra(shape, seed):
    """One float32 standard normal per element, row-major, times sqrt(2 / fan_out)."""
    size = 1
    for d in shape:
        size *= d
    fan_out = size // shape[1]
    out = np.empty(shape, np.float32)
    if fan_out == 0:
        return out
    std = np.float32(np.sqrt(np.float32(2) / np.float32(fan_out)))
    rng = np.random.default_rng(seed)
    for idx in np.ndindex(*shape):
        out[idx] = np.float32(rng.standard_normal(dtype=np.float32) * std)
    return out


@pytest.mark.parametrize("shape", [[15, 5, 3], [4, 2], [3, 1, 1], [0, 3]])
def test_matches_naive_draws(shape):
    y = run(CreateOperator("MSRAFill", [], ["Y"], shape=shape, random_seed=9))
    np.testing.assert_array_equal(y, naive_msra(tuple(shape), 9))
    assert y.dtype == np.float32 and y.shape == tuple(shape)


def test_caffe2_msra_case_is_not_all_zero():
    y = run(CreateOperator("MSRAFill", [], ["out"], shape=[15, 5, 3]))
    assert np.count_nonzero(y) > 0


def test_seeded_runs_repeat_and_seeds_differ():
    def fill(seed):
        return run(
            CreateOperator("MSRAFill", [], ["Y"], shape=[20, 10], random_seed=seed)
        )

    np.testing.assert_array_equal(fill(3), fill(3))
    assert not np.array_equal(fill(3), fill(4))


def test_distribution():
    """shape (100, 20, 10): fan_out = 20000 / 20 = 1000, std = sqrt(2 / 1000)."""
    y = run(CreateOperator("MSRAFill", [], ["Y"], shape=[100, 20, 10], random_seed=2))
    std = math.sqrt(2 / 1000)
    n = y.size
    z = y.astype(np.float64) / std
    assert abs(z.mean()) < 6 / math.sqrt(n)
    assert abs(z.std() - 1) < 6 / math.sqrt(2 * n)
    for k, p in ((1, 0.6826895), (2, 0.9544997)):  # mass within k standard deviations
        assert abs(np.mean(np.abs(z) < k) - p) < 6 * math.sqrt(p * (1 - p) / n)
    assert abs(np.mean(z**3)) < 6 * math.sqrt(15 / n)  # symmetric


@pytest.mark.parametrize(
    "kwargs, feeds, shape",
    [
        ({}, {"X": np.zeros((4, 3), np.int32)}, (4, 3)),
        ({"extra_shape": [2]}, {"X": np.zeros((5,), np.float64)}, (5, 2)),
        ({"input_as_shape": 1}, {"X": np.array([6, 2, 2], np.int64)}, (6, 2, 2)),
    ],
)
def test_shape_from_input(kwargs, feeds, shape):
    op = CreateOperator("MSRAFill", list(feeds), ["Y"], random_seed=1, **kwargs)
    y = run(op, **feeds)
    assert y.shape == shape and y.dtype == np.float32
    (inferred,) = infer_op(op, [shape_of(v) for v in feeds.values()])
    assert inferred.dtype == np.float32 and inferred.ndim == len(shape)
    if not kwargs.get("input_as_shape"):
        assert inferred.dims == shape


def test_example_and_shape_function():
    ex = registry.lookup("MSRAFill").example
    assert not ex.exact
    op = CreateOperator("MSRAFill", [], ["output"], **ex.args)
    y = run(op)
    want = ex.outputs["output"]
    assert (y.shape, y.dtype) == (want.shape, want.dtype)
    assert infer_op(op, []) == [shape_of(want)]
    assert registry.lookup("MSRAFill").shape(
        shape=[2, 5], extra_shape=[], input_as_shape=False
    ) == (TensorShape((2, 5), np.float32),)


def test_errors():
    check_raises(
        CreateOperator("MSRAFill", [], ["Y"], shape=[4]),
        [],
        ShapeError,
        "at least 2 dimensions",
    )
    check_raises(
        CreateOperator("MSRAFill", [], ["Y"], shape=[]),
        [],
        ShapeError,
        "at least 2 dimensions",
    )
    check_raises(
        CreateOperator("MSRAFill", [], ["Y"], shape=[3, 0, 2]),
        [],
        ShapeError,
        r"undefined when shape\[1\] is 0",
    )
    check_raises(
        CreateOperator("MSRAFill", [], ["Y"], input_as_shape=1),
        [],
        ArgumentError,
        "An input must be given if input_as_shape is true",
    )
    check_raises(
        CreateOperator("MSRAFill", [], ["Y"], shape=[2, -1]),
        [],
        ShapeError,
        "cannot be negative",
    )
    check_raises(
        CreateOperator("MSRAFill", ["X"], ["X", "Z"]),
        [np.zeros(2)],
        SchemaError,
        "Output size 2 not in range",
    )


def test_no_gradient():
    assert registry.gradient_entry("MSRAFill").kind == registry.NO_GRADIENT
    ops, grads = GradientRegistry.GetBackwardPass(
        [CreateOperator("MSRAFill", ["X"], ["Y"])], {"Y": "Y_grad"}
    )
    assert ops == [] and grads.get("X") is None
