from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

from ._naive import f32


def run(q):
    ws = Workspace()
    ws.feed_blob("qX", q)
    ws.run(CreateOperator("Int8Dequantize", ["qX"], ["Y"]))
    return ws.fetch_blob("Y")


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 255), max_size=10),
    st.sampled_from([1e-3, 0.1, 0.5, 3.3, 10.0]),
    st.integers(0, 255),
)
def test_matches_loop(values, scale, zp):
    y = run(Int8Tensor(np.array(values, np.uint8), scale, zp))
    assert y.dtype == np.float32
    assert y.tolist() == [f32((v - zp) * f32(scale)) for v in values]


def test_shape_and_empty():
    assert run(Int8Tensor(np.zeros((2, 0), np.uint8), 1.0, 0)).shape == (2, 0)
    assert (
        run(Int8Tensor(np.full((2, 3), 7, np.uint8), 0.5, 5)).tolist()
        == [[1.0] * 3] * 2
    )


def test_refuses_a_plain_tensor():
    op = CreateOperator("Int8Dequantize", ["qX"], ["Y"])
    check_raises(
        op,
        [np.array([1], np.uint8)],
        DTypeError,
        "wrong type for the Blob instance. Blob contains caffe2::Tensor while "
        "caller expects caffe2::int8::Int8TensorCPU",
    )
