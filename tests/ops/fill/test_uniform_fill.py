from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator
from caffe2lite.errors import (
    ArgumentError,
    DTypeError,
    EnforceError,
    SchemaError,
    ShapeError,
)
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


def test_seeded_runs_are_identical_and_seeds_differ():
    def fill(seed):
        return run(CreateOperator("UniformFill", [], ["Y"], shape=[50], min=-1.0, max=1.0,
                                  random_seed=seed))

    a, b, c = fill(7), fill(7), fill(8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_created_net_continues_its_stream_reproducibly():
    from caffe2lite.proto import caffe2_pb2

    def three_runs():
        ws = Workspace()
        net = caffe2_pb2.NetDef(name="fill")
        net.op.append(CreateOperator("UniformFill", [], ["Y"], shape=[8], random_seed=3))
        ws.create_net(net)
        out = []
        for _ in range(3):
            ws.run_net("fill")
            out.append(ws.fetch_blob("Y"))
        return out

    first, second = three_runs(), three_runs()
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0], first[1])


def test_range_and_moments():
    y = run(CreateOperator("UniformFill", [], ["Y"], shape=[200, 500], min=-2.0, max=3.0,
                           random_seed=11))
    assert y.dtype == np.float32 and y.shape == (200, 500)
    assert y.min() >= -2.0 and y.max() < 3.0
    # 100000 samples: the mean's standard error is (5 / sqrt(12)) / sqrt(1e5) = 0.0046.
    assert abs(y.mean() - 0.5) < 6 * 0.0046
    assert abs(y.std() - 5 / np.sqrt(12)) < 0.02
    bins = np.histogram(y, bins=10, range=(-2, 3))[0] / y.size
    assert np.all(np.abs(bins - 0.1) < 6 * np.sqrt(0.09 / y.size))


def test_defaults_are_zero_to_one_and_max_is_never_reached():
    y = run(CreateOperator("UniformFill", [], ["Y"], shape=[10000], random_seed=0))
    assert y.min() >= 0 and y.max() < 1
    hi = float(np.nextafter(np.float32(1), np.float32(2)))
    tight = run(CreateOperator("UniformFill", [], ["Y"], shape=[1000], min=1.0, max=hi))
    assert np.all(tight == 1.0)


@pytest.mark.parametrize("kwargs, feeds, shape", [
    ({"shape": [2, 3]}, {}, (2, 3)),
    ({"shape": []}, {}, ()),
    ({}, {}, ()),
    ({"shape": [4, 0]}, {}, (4, 0)),
    ({}, {"X": np.zeros((3, 1, 2), np.int32)}, (3, 1, 2)),
    ({"extra_shape": [5]}, {"X": np.zeros((2,), np.float64)}, (2, 5)),
    ({"input_as_shape": 1}, {"X": np.array([4, 5, 6], np.int64)}, (4, 5, 6)),
    ({"input_as_shape": 1, "extra_shape": [2]}, {"X": np.array([3], np.int64)}, (3, 2)),
    ({"shape": 9}, {"X": np.zeros((2, 2))}, (2, 2)),  # a scalar shape reads as no list
])
def test_shapes(kwargs, feeds, shape):
    y = run(CreateOperator("UniformFill", list(feeds), ["Y"], min=5.0, max=6.0, **kwargs),
            **feeds)
    assert y.shape == shape and y.dtype == np.float32
    assert np.all((y >= 5) & (y < 6))


def test_in_place_on_the_shape_input():
    y = run(CreateOperator("UniformFill", ["X"], ["X"]), X=np.zeros((2, 3), np.int64))
    assert y.shape == (2, 3) and y.dtype == np.float32


def test_bounds_from_input_blobs():
    lo, hi = np.array([10], np.float32), np.array([[12]], np.float32)
    y = run(CreateOperator("UniformFill", ["X", "lo", "hi"], ["Y"], random_seed=1),
            X=np.zeros((5, 4)), lo=lo, hi=hi)
    assert y.shape == (5, 4) and y.min() >= 10 and y.max() < 12
    same = run(CreateOperator("UniformFill", ["X", "lo", "hi"], ["Y"]), X=np.zeros((3,)),
               lo=lo, hi=lo)
    np.testing.assert_array_equal(same, np.full(3, 10, np.float32))


def test_min_blob_above_max_blob_gives_an_empty_first_dimension():
    y = run(CreateOperator("UniformFill", ["X", "lo", "hi"], ["Y"], input_as_shape=1),
            X=np.array([4, 3], np.int64), lo=np.array([2], np.float32),
            hi=np.array([1], np.float32))
    assert y.shape == (0, 3) and y.dtype == np.float32


F1 = np.ones(1, np.float32)


@pytest.mark.parametrize("inputs, kwargs, error, match", [
    ({}, {"shape": 3}, ArgumentError, "Fill 'shape' argument was a scalar, list expected"),
    ({"X": np.zeros(2)}, {"shape": [2]}, ArgumentError,
     "Cannot set the shape argument and pass in an input at the same time"),
    ({}, {"shape": [2], "extra_shape": [3]}, ArgumentError,
     "Cannot set extra_shape when there is no input"),
    ({}, {"input_as_shape": 1}, ArgumentError,
     "An input must be given if input_as_shape is true"),
    ({"X": np.ones((2, 2), np.int64)}, {"input_as_shape": 1}, EnforceError,
     r"input\.dim\(\) == 1\. 2 vs 1\. When input_as_shape is true, the input must be a 1D "
     "tensor of data type int64_t"),
    ({"X": np.zeros(0, np.int64)}, {"input_as_shape": 1}, EnforceError,
     r"input\.numel\(\) > 0"),
    ({"X": np.ones(2, np.int32)}, {"input_as_shape": 1}, DTypeError,
     "caller expects elements to be long while tensor contains int"),
    ({"X": np.array([2, -1], np.int64)}, {"input_as_shape": 1}, ShapeError,
     "a tensor dimension cannot be negative"),
    ({}, {"shape": [2], "min": 1.0, "max": 1.0}, EnforceError,
     r"min_ < max_\. 1 vs 1\. Max value should be bigger than min value\."),
    ({"X": np.zeros(2), "lo": F1, "hi": F1}, {"min": 0.0}, EnforceError,
     "Cannot set both min arg and min input blob"),
    ({"X": np.zeros(2), "lo": F1, "hi": F1}, {"max": 2.0}, EnforceError,
     "Cannot set both max arg and max input blob"),
    ({"X": np.zeros(2), "lo": np.ones(2, np.float32), "hi": F1}, {}, EnforceError,
     r"1 == Input\(1\)\.numel\(\)\. 1 vs 2\. min blob must be scalar"),
    ({"X": np.zeros(2), "lo": F1, "hi": np.ones(0, np.float32)}, {}, EnforceError,
     "max blob must be scalar"),
    ({"X": np.zeros(2), "lo": np.ones(1, np.int32), "hi": F1}, {}, DTypeError,
     "caller expects elements to be float while tensor contains int"),
    ({"X": np.zeros(2), "lo": F1}, {}, SchemaError,
     r"Input size 2 not in allowed input sizes\."),
    ({"X": np.zeros(2), "lo": F1, "hi": F1, "Z": F1}, {}, SchemaError,
     r"Input size 4 not in range \[min=0, max=3\]\."),
    ({}, {"shape": [2.5]}, ArgumentError, "expected field ints"),
])
def test_errors(inputs, kwargs, error, match):
    op = CreateOperator("UniformFill", list(inputs), ["Y"], **kwargs)
    testing.check_raises(op, list(inputs.values()), error, match)


def test_no_gradient():
    assert GRADIENTS["UniformFill"].kind == NO_GRADIENT


def _glow(name):
    path = GLOW / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return load_net(path)


def _run_init(ws, init):
    """Run glow's init net; its GivenTensorInt64Fill is fed directly when that op is not
    registered (its arguments say exactly which tensor it makes)."""
    if registry.find("GivenTensorInt64Fill") is not None:
        ws.run_net_once(init)
        return
    for op in init.op:
        assert op.type == "GivenTensorInt64Fill"
        args = {a.name: a for a in op.arg}
        ws.feed_blob(op.output[0], np.array(args["values"].ints, np.int64)
                     .reshape(list(args["shape"].ints)))


def test_glow_uniform_fill_input_as_shape():
    ws = Workspace()
    _run_init(ws, _glow("gaussian_fill_input_as_shape_init.pbtxt"))
    ws.run_net_once(_glow("uniform_fill_input_as_shape.pbtxt"))
    y = ws.fetch_blob("result")
    assert y.shape == (4, 5, 6, 7)  # glow: expectedShape {4, 5, 6, 7}, 0 <= value < 10
    assert y.min() >= 0.0 and y.max() < 10.0


def test_glow_uniform_fill_use_input_shape():
    ws = Workspace()
    ws.feed_blob("inputs_0", np.random.default_rng(0).integers(-10, 10, (4, 5, 6, 7)))
    ws.run_net_once(_glow("uniform_fill_use_input_shape.pbtxt"))
    y = ws.fetch_blob("result")
    assert y.shape == (4, 5, 6, 7) and y.min() >= 0.0 and y.max() < 10.0


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    op = CreateOperator("UniformFill", [], ["Y"], shape=[4, 2], min=-1.0, max=1.0)
    assert infer_op(op, []) == [TensorShape((4, 2), np.float32)]
    bounded = CreateOperator("UniformFill", ["X", "lo", "hi"], ["Y"], extra_shape=[2])
    one = TensorShape((1,), np.float32)
    assert infer_op(bounded, [TensorShape((5,), np.int32), one, one]) == [
        TensorShape((5, 2), np.float32)
    ]
