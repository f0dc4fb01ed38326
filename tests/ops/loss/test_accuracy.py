"""Accuracy against a stable-sort reference (Caffe2's definition), ties, top_k, the
empty batch and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.schema import registry
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace


def run(x, labels, **args):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.feed_blob("L", labels)
    ws.run_operator_once(CreateOperator("Accuracy", ["X", "L"], ["A"], **args))
    return ws.fetch_blob("A")


def stable_rank_reference(x, labels, top_k):
    hits = 0
    for row, label in zip(x, labels):
        order = sorted(range(len(row)), key=lambda j: -float(row[j]))  # stable: ties by index
        hits += label in order[:top_k]
    return np.float32(hits) / np.float32(len(labels))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), d=st.integers(1, 6), top_k=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_matches_a_stable_sort(n, d, top_k, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (n, d)).astype(np.float32)  # few values: many ties
    labels = rng.integers(0, d, n).astype(np.int32)
    got = run(x, labels, top_k=top_k)
    assert got.shape == () and got.dtype == np.float32
    assert got == stable_rank_reference(x, labels, top_k)


def test_example_ties_and_empty_batch():
    x = np.array([[0.2, 0.7, 0.1], [0.5, 0.5, 0.0], [0.1, 0.3, 0.6], [0.3, 0.3, 0.4]],
                 np.float32)
    labels = np.array([1, 1, 0, 1], np.int32)
    assert run(x, labels) == np.float32(0.25)
    assert run(x, labels, top_k=2) == np.float32(0.5)
    assert np.isnan(run(np.zeros((0, 3), np.float32), np.zeros(0, np.int32)))


def test_errors():
    x = np.ones((2, 3), np.float32)
    op = CreateOperator("Accuracy", ["X", "L"], ["A"])
    check_raises(op, [x, np.array([0, 3], np.int32)], EnforceError,
                 "label 3 of row 1 is not a class of the 3 scores")
    check_raises(op, [x, np.array([0], np.int32)], EnforceError, r"label.dim32\(0\) == N")
    check_raises(op, [x, np.array([0, 1], np.int64)], DTypeError, "expects elements to be int")
    check_raises(op, [np.ones(3, np.float32), np.array([0], np.int32)], EnforceError,
                 r"X.ndim\(\) == 2")
    with pytest.raises(Exception, match="top_k must be positive"):
        run(x, np.array([0, 1], np.int32), top_k=0)
    assert registry.GRADIENTS["Accuracy"].kind == registry.SHOULD_NOT_DO
