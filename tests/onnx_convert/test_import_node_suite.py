"""ONNX's own node test cases (onnx.backend.test.case.node, with the expected outputs
ONNX states) for every op type the importer has a converter for: each case imports
and matches, or is refused at import with an OnnxImportError (a form or a type
caffe2lite cannot express). Nothing may import and then compute something else."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from caffe2lite.errors import Caffe2LiteError
from caffe2lite.onnx import backend

# Cases that import but fail at run time (none today).
RUN_TIME_LIMITS: set[str] = set()


def _cases():
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = collect_testcases(None)
    return [c for c in cases
            if {n.op_type for n in c.model.graph.node} <= set(backend.CONVERTERS)
            and c.data_sets]


def _array(value):
    return onnx.numpy_helper.to_array(value) if hasattr(value, "data_type") else value


def test_onnx_node_cases():
    imported, refused, failures = 0, 0, []
    for case in _cases():
        inputs, outputs = case.data_sets[0]
        try:
            rep = backend.prepare(case.model)
        except backend.OnnxImportError:
            refused += 1
            continue
        imported += 1
        try:
            got = rep.run([_array(v) for v in inputs])
        except Caffe2LiteError as e:
            if case.name not in RUN_TIME_LIMITS:
                failures.append(f"{case.name}: {type(e).__name__}: {e}")
            continue
        for g, w in zip(got, outputs):
            g, w = np.asarray(g), np.asarray(_array(w))
            try:
                assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape)
                if w.dtype.kind in "fc":
                    np.testing.assert_allclose(g, w, rtol=max(case.rtol, 1e-4),
                                               atol=max(case.atol, 1e-5))
                else:
                    np.testing.assert_array_equal(g, w)
            except AssertionError as e:
                failures.append(f"{case.name}: {str(e)[:300]}")
    assert not failures, "\n".join(failures)
    assert imported > 200 and refused < imported
