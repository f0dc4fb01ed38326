"""Every segment-ids op's worked example runs and its shape function agrees with it."""

from __future__ import annotations

import numpy as np
import pytest

import caffe2lite  # noqa: F401  (registers every operator)
from caffe2lite.builder.operator import CreateOperator
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import shape_of
from caffe2lite.testing.checkers import assert_same
from caffe2lite.workspace import Workspace


def _mine(module: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    return module.startswith("caffe2lite.ops.segment.") and (
        name.endswith(("sorted_segment_sum", "sorted_segment_mean"))
        or name == "sparse_lengths_positional_weighted_sum"
    )


OPS = sorted(
    t for (t, _), s in registry.OPERATORS.items() if _mine(s.kernel.__module__)
)


def test_the_family_is_registered():
    assert "SparseUnsortedSegmentMean" in OPS
    assert "SortedSegmentSumGradient" in OPS
    assert "SparseLengthsPositionalWeightedSum" in OPS
    assert len(OPS) == 17


@pytest.mark.parametrize("op_type", OPS)
def test_example_runs_and_shapes_agree(op_type):
    schema = registry.lookup(op_type)
    ex = schema.example
    assert ex is not None, f"{op_type} has no Example"
    op = CreateOperator(op_type, list(ex.inputs), list(ex.outputs), **ex.args)
    ws = Workspace()
    for name, value in ex.inputs.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(op)
    for name, want in ex.outputs.items():
        assert_same(f"{op_type} {name}", ws.fetch_blob(name), want, 1e-6, ex.rtol)
    shapes = infer_op(op, [shape_of(v) for v in ex.inputs.values()])
    for got, want in zip(shapes, ex.outputs.values()):
        want = np.asarray(want)
        assert got.dtype == want.dtype, (op_type, got, want.dtype)
        assert got.dims is not None and len(got.dims) == want.ndim, (op_type, got)
        for d, w in zip(got.dims, want.shape):
            assert isinstance(d, str) or d == w, (op_type, got, want.shape)
