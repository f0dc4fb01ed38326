from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, EnforceError, SchemaError
from caffe2lite.protoio import load_net
from caffe2lite.schema.registry import GRADIENTS, NO_GRADIENT
from caffe2lite.workspace import Workspace

GLOW = Path(__file__).resolve().parents[3] / "shared" / "realnets" / "glow_caffe2Models"


def run(op, **feeds):
    ws = Workspace()
    for name, value in feeds.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(op)
    return ws.fetch_blob(op.output[0])


def test_moments():
    y = run(CreateOperator("GaussianFill", [], ["Y"], shape=[400, 250], mean=3.0, std=0.5,
                           random_seed=2))
    assert y.dtype == np.float32 and y.shape == (400, 250)
    # 100000 samples: standard errors 0.5 / 316 = 0.0016 (mean), 0.5 / 447 = 0.0011 (std)
    assert abs(y.mean() - 3.0) < 6 * 0.0016
    assert abs(y.std() - 0.5) < 6 * 0.0011
    within = np.mean(np.abs(y - 3.0) < 0.5)
    assert abs(within - 0.6827) < 6 * np.sqrt(0.6827 * 0.3173 / y.size)


def test_seeded_runs_are_identical_and_seeds_differ():
    def fill(seed):
        return run(CreateOperator("GaussianFill", [], ["Y"], shape=[20], random_seed=seed))

    np.testing.assert_array_equal(fill(1), fill(1))
    assert not np.array_equal(fill(1), fill(2))


def test_zero_std_gives_the_mean_and_defaults_are_standard():
    np.testing.assert_array_equal(
        run(CreateOperator("GaussianFill", [], ["Y"], shape=[4], mean=-1.5, std=0.0)),
        np.full(4, -1.5, np.float32))
    y = run(CreateOperator("GaussianFill", [], ["Y"], shape=[20000], random_seed=0))
    assert abs(y.mean()) < 6 / np.sqrt(20000) and abs(y.std() - 1) < 0.05


@pytest.mark.parametrize("kwargs, feeds, shape", [
    ({"shape": [17, 3, 3]}, {}, (17, 3, 3)),
    ({}, {"X": np.zeros((2, 4), np.int64)}, (2, 4)),
    ({"extra_shape": [2, 3]}, {"X": np.zeros((1,), np.float32)}, (1, 2, 3)),
    ({"input_as_shape": 1}, {"X": np.array([0, 5], np.int64)}, (0, 5)),
])
def test_shapes(kwargs, feeds, shape):
    y = run(CreateOperator("GaussianFill", list(feeds), ["Y"], **kwargs), **feeds)
    assert y.shape == shape and y.dtype == np.float32


@pytest.mark.parametrize("inputs, kwargs, error, match", [
    ({}, {"shape": 32, "mean": 0.0, "std": 1.0}, ArgumentError,
     "Fill 'shape' argument was a scalar, list expected"),
    ({}, {"shape": [2], "std": -1.0}, EnforceError,
     "Standard deviation should be nonnegative"),
    ({"X": np.zeros(2)}, {"shape": [2]}, ArgumentError,
     "Cannot set the shape argument and pass in an input at the same time"),
    ({"X": np.zeros(2), "Z": np.zeros(2)}, {}, SchemaError,
     r"Input size 2 not in range \[min=0, max=1\]\."),
])
def test_errors(inputs, kwargs, error, match):
    op = CreateOperator("GaussianFill", list(inputs), ["Y"], **kwargs)
    testing.check_raises(op, list(inputs.values()), error, match)


def test_no_gradient():
    assert GRADIENTS["GaussianFill"].kind == NO_GRADIENT


def _glow(name):
    path = GLOW / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return load_net(path)


def _glow_check(y, shape):
    """glow's test: the expected shape, and a mean within 3 of 0 (mean 0, std 1)."""
    assert y.shape == shape and y.dtype == np.float32
    assert abs(float(y.mean())) < 3
    assert abs(float(y.mean())) < 6 / np.sqrt(y.size)
    assert abs(float(y.std()) - 1) < 6 / np.sqrt(2 * y.size)


def test_glow_gaussian_fill_use_provided_shape():
    ws = Workspace()
    ws.run_net_once(_glow("gaussian_fill_use_provided_shape.pbtxt"))
    _glow_check(ws.fetch_blob("result"), (4, 5, 6, 7))


def test_glow_gaussian_fill_input_as_shape():
    ws = Workspace()
    init = _glow("gaussian_fill_input_as_shape_init.pbtxt")
    if registry.find("GivenTensorInt64Fill") is not None:
        ws.run_net_once(init)
    else:  # the init net's one op makes exactly this tensor
        ws.feed_blob("inputs_0", np.array([4, 5, 6, 7], np.int64))
    ws.run_net_once(_glow("gaussian_fill_input_as_shape.pbtxt"))
    _glow_check(ws.fetch_blob("result"), (4, 5, 6, 7))


@pytest.mark.parametrize("name, shape", [
    ("gaussian_fill_use_input_shape.pbtxt", (4, 5, 6, 7)),
    ("gaussian_fill_use_input_shape_with_extra_shape.pbtxt", (4, 5, 6, 7, 2, 3)),
])
def test_glow_gaussian_fill_from_input_shape(name, shape):
    ws = Workspace()
    ws.feed_blob("inputs_0", np.random.default_rng(0).integers(-10, 10, (4, 5, 6, 7)))
    ws.run_net_once(_glow(name))
    _glow_check(ws.fetch_blob("result"), shape)


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    op = CreateOperator("GaussianFill", [], ["Y"], shape=[4, 2], mean=1.0, std=2.0)
    assert infer_op(op, []) == [TensorShape((4, 2), np.float32)]
    like = CreateOperator("GaussianFill", ["X"], ["Y"])
    assert infer_op(like, [TensorShape((3,), np.float64)]) == [
        TensorShape((3,), np.float32)
    ]
