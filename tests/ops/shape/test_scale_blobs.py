from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    DTypeError,
    SchemaError,
)
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import shape_of
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


def test_example():
    run_example("ScaleBlobs")


@settings(max_examples=25, deadline=None)
@given(shapes=st.lists(st.lists(st.integers(0, 3), max_size=3), min_size=1, max_size=4),
       scale=st.floats(-4, 4), dtype=st.sampled_from([np.float32, np.float64]))
def test_matches_naive(shapes, scale, dtype):
    rng = np.random.default_rng(len(shapes))
    xs = [np.asarray(rng.standard_normal(s), dtype) for s in shapes]
    s32 = float(np.float32(scale))  # the argument travels as a float32
    names = [f"X{i}" for i in range(len(xs))]
    op = CreateOperator("ScaleBlobs", names, [f"Y{i}" for i in range(len(xs))], scale=scale)
    want = [np.array([v * s32 for v in x.reshape(-1).tolist()], dtype).reshape(x.shape)
            for x in xs]
    testing.check_reference(op, xs, lambda *a: want, rtol=1e-6)
    assert infer_op(op, [shape_of(x) for x in xs]) == [shape_of(w) for w in want]


def test_in_place_any_pair_and_default_scale():
    ws = Workspace()
    ws.feed_blob("A", np.array([1.0, 2.0], np.float32))
    ws.feed_blob("B", np.array([3.0], np.float32))
    ws.run_operator_once(CreateOperator("ScaleBlobs", ["A", "B"], ["B", "A"], scale=2.0))
    np.testing.assert_array_equal(ws.fetch_blob("B"), [2.0, 4.0])
    np.testing.assert_array_equal(ws.fetch_blob("A"), [6.0])
    op = CreateOperator("ScaleBlobs", ["A"], ["C"])
    testing.check_reference(op, [np.array([5.0], np.float32)],
                            lambda a: [np.array([5.0], np.float32)])


def test_errors_and_gradient_decision():
    f = np.ones(2, np.float32)
    op = CreateOperator("ScaleBlobs", ["A", "B"], ["C", "D"])
    testing.check_raises(op, [f, np.ones(2)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(CreateOperator("ScaleBlobs", ["A"], ["C"]), [np.ones(2, np.int32)],
                         DTypeError, "caller expects elements to be float")
    testing.check_raises(CreateOperator("ScaleBlobs", ["A", "B"], ["C"]), [f, f], SchemaError,
                         "one output per input")
    assert registry.GRADIENTS["ScaleBlobs"].kind == registry.NOT_IMPLEMENTED_YET
