"""The conformance test compares an Int8 output of a doc example only by type; here
every Int8 op's example is run and its Int8 outputs compared exactly: data, dtype,
shape, scale and zero point."""

from __future__ import annotations

import numpy as np
import pytest

import caffe2lite  # noqa: F401
from caffe2lite.core import CreateOperator
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

INT8_OPS = sorted(
    t
    for t, e in registry.OPERATORS
    if registry.OPERATORS[(t, e)].kernel.__module__.startswith("caffe2lite.ops.int8.")
)


def test_there_are_int8_ops():
    assert "Int8Conv" in INT8_OPS and "Int8Quantize" in INT8_OPS


@pytest.mark.parametrize("op_type", INT8_OPS)
def test_example_values(op_type):
    ex = registry.OPERATORS[(op_type, "")].example
    ws = Workspace()
    for k, v in ex.inputs.items():
        ws.feed_blob(k, v)
    ws.run(CreateOperator(op_type, list(ex.inputs), list(ex.outputs), **ex.args))
    for name, want in ex.outputs.items():
        got = ws.fetch_blob(name)
        if isinstance(want, Int8Tensor):
            assert isinstance(got, Int8Tensor), name
            assert (
                got.data.dtype == want.data.dtype and got.data.shape == want.data.shape
            )
            np.testing.assert_array_equal(got.data, want.data, err_msg=name)
            assert np.float32(got.scale) == np.float32(want.scale), name
            assert got.zero_point == want.zero_point, name
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=name)
