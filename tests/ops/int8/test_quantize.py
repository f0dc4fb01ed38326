from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import workspace
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.registry import NOT_IMPLEMENTED_YET, gradient_entry
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

from ._naive import quantize_one


def run(x, *extra, **args):
    ws = Workspace()
    names = ["X", "s", "z"][: 1 + len(extra)]
    for n, v in zip(names, (x, *extra)):
        ws.feed_blob(n, v)
    ws.run(CreateOperator("Int8Quantize", names, ["Y"], **args))
    return ws.fetch_blob("Y")


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-1e4, 1e4, width=32), min_size=0, max_size=12),
    st.sampled_from([0.5, 0.1, 1.0, 3.7, 1e-3]),
    st.integers(0, 255),
)
def test_matches_scalar_reference(values, scale, zp):
    x = np.array(values, np.float32)
    y = run(x, Y_scale=scale, Y_zero_point=zp)
    assert isinstance(y, Int8Tensor) and y.data.dtype == np.uint8
    assert y.scale == np.float32(scale) and y.zero_point == zp
    assert y.data.tolist() == [quantize_one(v, scale, zp) for v in x.tolist()]


def test_ties_to_even_and_saturation():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 1000, -1000], np.float32)
    y = run(x, Y_scale=1.0, Y_zero_point=128)
    assert y.data.tolist() == [128, 130, 130, 128, 126, 255, 0]


def test_shapes_kept_including_empty_and_scalar():
    assert run(np.zeros((2, 0, 3), np.float32)).data.shape == (2, 0, 3)
    assert run(np.array(2.0, np.float32), Y_scale=0.5).data.tolist() == 4


def test_qparam_inputs_override_arguments():
    y = run(
        np.array([1.0, 2.0], np.float32),
        np.array([0.25], np.float32),
        np.array([3], np.int32),
        Y_scale=1.0,
        Y_zero_point=0,
    )
    assert (y.data.tolist(), y.scale, y.zero_point) == ([7, 11], 0.25, 3)


def test_refuses_non_float_input():
    check_raises(
        CreateOperator("Int8Quantize", ["X"], ["Y"]),
        [np.array([1], np.int32)],
        DTypeError,
        "caller expects elements to be float",
    )


def test_no_gradient_yet():
    assert gradient_entry("Int8Quantize").kind == NOT_IMPLEMENTED_YET


def test_fetch_int8_blob():
    workspace.ResetWorkspace()
    workspace.FeedBlob("X", np.array([1.0], np.float32))
    workspace.RunOperatorOnce(CreateOperator("Int8Quantize", ["X"], ["Y"], Y_scale=0.5))
    assert workspace.FetchInt8Blob("Y").data.tolist() == [2]
