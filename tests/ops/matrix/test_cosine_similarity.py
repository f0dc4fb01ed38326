from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError


def _rows(x):
    n = x.shape[0] if x.ndim else 1
    d = int(np.prod(x.shape[1:])) if x.ndim > 1 else 1
    return n, d


def naive_cosine(x, y):
    n, d = _rows(x)
    xf, yf = x.reshape(-1).tolist(), y.reshape(-1).tolist()
    out = []
    for i in range(n):
        xs, ys = xf[i * d:(i + 1) * d], yf[i * d:(i + 1) * d]
        dot = sum(a * b for a, b in zip(xs, ys))
        nx, ny = max(sum(a * a for a in xs), 1e-12), max(sum(b * b for b in ys), 1e-12)
        out.append(dot / math.sqrt(nx * ny))
    return [np.array(out, x.dtype)]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, dtype, seed):
    # distance_op_test.py: test_cosine_similarity
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype)
    y = np.asarray(rng.standard_normal(shape), dtype=dtype)
    op = CreateOperator("CosineSimilarity", ["X", "Y"], ["Z"])
    testing.check_reference(op, [x, y], naive_cosine, atol=1e-5)


def test_zero_rows_and_vectors():
    op = CreateOperator("CosineSimilarity", ["X", "Y"], ["Z"])
    testing.check_reference(op, [np.zeros((2, 3)), np.ones((2, 3))], lambda *v: [np.zeros(2)])
    # a 1-D input is N rows of one value: each cosine is the sign of the product
    testing.check_reference(op, [np.array([2.0, -1.0]), np.array([3.0, 4.0])],
                            lambda *v: [np.array([1.0, -1.0])])


def test_errors():
    op = CreateOperator("CosineSimilarity", ["X", "Y"], ["Z"])
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones(6, np.float32)], ShapeError,
                         re.escape("X.dim() == Y.dim(). 2 vs 1"))
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)],
                         ShapeError, re.escape("X.dim32(i) == Y.dim32(i). 3 vs 4"))
    testing.check_raises(op, [np.ones(2), np.ones(2, np.float32)], DTypeError,
                         "caller expects elements to be double while tensor contains float")
    grad = CreateOperator("CosineSimilarityGradient", ["X", "Y", "dCos"], ["dX", "dY"])
    ones = np.ones((2, 3), np.float32)
    testing.check_raises(grad, [ones, ones, np.ones((2, 1), np.float32)], ShapeError,
                         re.escape("dCos.dim() == 1"))
    testing.check_raises(grad, [ones, ones, np.ones(3, np.float32)], ShapeError,
                         re.escape("dCos.dim32(0) == N"))


def test_numeric_gradient():
    rng = np.random.default_rng(7)
    for shape in [(3, 4), (2, 2, 3)]:
        x, y = rng.standard_normal(shape), rng.standard_normal(shape)
        testing.check_gradient(CreateOperator("CosineSimilarity", ["X", "Y"], ["Z"]), [x, y],
                               [0, 1])


def test_gradient_ops_list():
    op = CreateOperator("CosineSimilarity", ["X", "Y"], ["Z"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Z": "Z_grad"})
    want = CreateOperator("CosineSimilarityGradient", ["X", "Y", "Z_grad"], ["X_grad", "Y_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
