"""Every sparse op of this change's worked example runs and its shape function agrees with it."""

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

MODULES = {
    "sparse_to_dense_mask",
    "batch_sparse_to_dense",
    "gather_ranges_to_dense",
    "lengths_gather",
    "scatter_assign",
    "sparse_label_split",
    "fill_examples_with_indicator",
    "sparse_fun_hash",
}
OPS = sorted(
    t
    for (t, _), s in registry.OPERATORS.items()
    if s.kernel.__module__.startswith("caffe2lite.ops.sparse.")
    and s.kernel.__module__.rsplit(".", 1)[-1] in MODULES
)


def test_the_family_is_registered():
    assert "SparseToDenseMask" in OPS


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
