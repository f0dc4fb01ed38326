from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace


def fill(op_type, **args):
    ws = Workspace()
    ws.run(CreateOperator(op_type, [], ["T"], **args))
    return ws.fetch_blob("T")


def test_bytes_in_row_major_order():
    t = fill(
        "Int8GivenTensorFill",
        values=b"\x80\x81\x00\xff",
        shape=[2, 2],
        Y_scale=0.5,
        Y_zero_point=128,
    )
    assert isinstance(t, Int8Tensor)
    expected = [[0x80, 0x81], [0, 255]]
    got = [[int(t.data[i, j]) for j in range(2)] for i in range(2)]
    assert got == expected and t.data.dtype == np.uint8
    assert (t.scale, t.zero_point) == (0.5, 128)


def test_int_fill_and_defaults():
    t = fill("Int8GivenIntTensorFill", values=[2, -7, 2**31 - 1], shape=[3])
    assert t.data.dtype == np.int32 and t.data.tolist() == [2, -7, 2**31 - 1]
    assert (t.scale, t.zero_point) == (1.0, 0)


def test_scalar_and_empty_shapes():
    assert fill("Int8GivenTensorFill", values=b"\x05").data.shape == ()
    assert fill("Int8GivenIntTensorFill", values=[], shape=[0, 3]).data.shape == (0, 3)


@pytest.mark.parametrize(
    "op_type,values",
    [("Int8GivenTensorFill", b"\x01\x02"), ("Int8GivenIntTensorFill", [1, 2])],
)
def test_size_mismatch(op_type, values):
    op = CreateOperator(op_type, [], ["T"], values=values, shape=[3])
    check_raises(op, [], EnforceError, "output size: 3 given size: 2")
