from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    DTypeError,
)
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.workspace import Workspace


def run_example(op_type):
    ex = registry.lookup(op_type).example
    op = CreateOperator(op_type, list(ex.inputs), list(ex.outputs), **ex.args)
    got = testing.check_reference(op, list(ex.inputs.values()),
                                  lambda *a: list(ex.outputs.values()), atol=0, rtol=1e-6)
    shapes = infer_op(op, [shape_of(v) for v in ex.inputs.values()])
    for s, g in zip(shapes, got):
        assert s.dtype == g.dtype
        assert s.dims is None or all(isinstance(d, str) or d == e
                                     for d, e in zip(s.dims, g.shape))


def backward(op, outputs):
    ops, grads = GradientRegistry.GetBackwardPass([op], {o: o + "_grad" for o in outputs})
    return [(o.type, list(o.input), list(o.output)) for o in ops], grads

import struct


def naive_half(v):
    """IEEE half rounding through the struct module's 'e' format."""
    try:
        return struct.unpack("<e", struct.pack("<e", v))[0]
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def test_example():
    run_example("FloatToHalf")


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6, width=32), max_size=8), clip=st.booleans())
def test_matches_struct_rounding(values, clip):
    x = np.array(values, np.float32)
    def ref(v):
        if clip:
            v = max(-65504.0, min(65504.0, v))
        return naive_half(v)
    want = np.array([ref(v) for v in x.tolist()], np.float16)
    op = CreateOperator("FloatToHalf", ["X"], ["Y"], clip=clip)
    testing.check_reference(op, [x], lambda x: [want], atol=0, rtol=0)
    assert infer_op(op, [shape_of(x)])[0] == TensorShape(x.shape, np.float16)


def test_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 70000.0], np.float32)
    got = testing.check_reference(CreateOperator("FloatToHalf", ["X"], ["Y"], clip=True), [x],
                                  lambda x: [np.array([np.nan, 65504, -65504, 65504],
                                                      np.float16)])
    assert np.isnan(got[0][0])


def test_errors_and_gradient():
    testing.check_raises(CreateOperator("FloatToHalf", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "caller expects elements to be float")
    op = CreateOperator("FloatToHalf", ["X"], ["Y"], clip=True)
    ops, _grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("HalfToFloat", ["Y_grad"], ["X_grad"])]
    ws = Workspace()
    ws.feed_blob("Y_grad", np.array([0.5, 2.0], np.float16))
    ws.run_operator_once(ops[0])
    np.testing.assert_array_equal(ws.fetch_blob("X_grad"), np.array([0.5, 2.0], np.float32))
