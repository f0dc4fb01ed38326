from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, GradientError, SchemaError
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.testing import check_raises, check_reference
from caffe2lite.workspace import Workspace


def naive_is_empty(x):
    count = 1
    for d in x.shape:
        count *= d
    return np.array(count == 0)


@pytest.mark.parametrize(
    "x",
    [
        np.random.default_rng(0)
        .standard_normal((2, 2))
        .astype(np.float32),  # Caffe2's doc
        np.empty(0),  # Caffe2's doc
        np.zeros((3, 0, 2), np.int32),
        np.array(5, np.int64),  # 0-d: one element
        np.array([b"a", b"b"], dtype=object),
        np.zeros((0,), dtype=object),
        np.array([True]),
    ],
)
def test_matches_naive(x):
    op = CreateOperator("IsEmpty", ["tensor"], ["is_empty"])
    (y,) = check_reference(op, [x], lambda x: [naive_is_empty(x)])
    assert y.shape == () and y.dtype == np.bool_
    assert infer_op(op, [shape_of(x)]) == [TensorShape((), np.bool_)]


def test_example_and_shape_function():
    ex = registry.lookup("IsEmpty").example
    op = CreateOperator("IsEmpty", ["tensor"], ["is_empty"])
    check_reference(op, [ex.inputs["tensor"]], lambda x: [ex.outputs["is_empty"]])
    assert infer_op(op, [shape_of(ex.inputs["tensor"])]) == [
        shape_of(ex.outputs["is_empty"])
    ]
    assert infer_op(op, [TensorShape()]) == [TensorShape((), np.bool_)]


def test_errors():
    ws = Workspace()
    ws.feed_blob("s", b"not a tensor")
    with pytest.raises(DTypeError, match="expected a tensor"):
        ws.run_operator_once(CreateOperator("IsEmpty", ["s"], ["e"]))
    check_raises(
        CreateOperator("IsEmpty", ["X"], ["X"]),
        [np.zeros(2)],
        SchemaError,
        "not supported by op IsEmpty",
    )
    check_raises(
        CreateOperator("IsEmpty", ["X", "Y"], ["e"]),
        [np.zeros(2)] * 2,
        SchemaError,
        "Input size 2 not in range",
    )


def test_no_gradient_maker():
    assert registry.gradient_entry("IsEmpty").kind == registry.NOT_IMPLEMENTED_YET
    with pytest.raises(GradientError, match="IsEmpty"):
        GradientRegistry.GetBackwardPass(
            [CreateOperator("IsEmpty", ["X"], ["e"])], {"e": "e_grad"}
        )
