from __future__ import annotations

import numpy as np

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


def test_example():
    run_example("HalfToFloat")


def test_every_half_value_converts_exactly():
    bits = np.arange(2**16, dtype=np.uint16)
    x = bits.view(np.float16)
    want = np.array([struct.unpack("<e", struct.pack("<H", int(b)))[0] for b in bits[::97]],
                    np.float32)
    op = CreateOperator("HalfToFloat", ["X"], ["Y"])
    testing.check_reference(op, [x[::97].copy()], lambda x: [want], atol=0, rtol=0)
    got = testing.check_reference(op, [x], lambda x: [x.astype(np.float32)], atol=0, rtol=0)
    assert infer_op(op, [shape_of(x)])[0] == TensorShape(got[0].shape, np.float32)


def test_errors_and_gradient():
    testing.check_raises(CreateOperator("HalfToFloat", ["X"], ["Y"]), [np.ones(2, np.float32)],
                         DTypeError, "caller expects elements to be c10::Half while tensor "
                         "contains float")
    ops, _ = GradientRegistry.GetBackwardPass([CreateOperator("HalfToFloat", ["X"], ["Y"])],
                                              {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("FloatToHalf", ["Y_grad"], ["X_grad"])]
    ws = Workspace()
    ws.feed_blob("Y_grad", np.array([0.25, 3.0], np.float32))
    ws.run_operator_once(ops[0])
    np.testing.assert_array_equal(ws.fetch_blob("X_grad"), np.array([0.25, 3.0], np.float16))
