"""Naive references and input checks the tests of the segment ops share (the
Lengths* and SparseLengths* families): a Python loop over segments and rows."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.errors import DTypeError, EnforceError, ShapeError

LONG_LENGTHS = "caller expects elements to be int while tensor contains long"

# Hypothesis strategies: up to 8 segments of up to 6 rows, a row shape of up to two
# dims, float dtypes, index dtypes, a table of 1 to 6 rows, seeds.
LENGTHS = st.lists(st.integers(0, 6), max_size=8)
BLOCKS = st.lists(st.integers(0, 3), max_size=2)
FLOATS = st.sampled_from([np.float32, np.float64])
INDEX_TYPES = st.sampled_from([np.int32, np.int64])
TABLE_ROWS = st.integers(1, 6)
SEEDS = st.integers(0, 2**16)


def segment_data(lengths, block, dtype, seed, rows=None):
    """(rng, data, lengths): standard normal data of ``dtype``, ``rows`` rows (the
    sum of the lengths by default) of shape ``block``, the first draw of a generator
    seeded with ``seed``; the lengths as int32."""
    rng = np.random.default_rng(seed)
    lengths = np.array(lengths, np.int32)
    rows = int(lengths.sum()) if rows is None else rows
    data = rng.standard_normal((rows,) + tuple(block)).astype(dtype)
    return rng, data, lengths


def naive_segment_sums(data, lengths, indices=None, weights=None):
    """Segment s sums its rows (``data[indices[j]]`` for its ``lengths[s]`` positions
    j, or the next rows of ``data`` without indices), each times ``weights[j]`` when
    given; in float64."""
    out = np.zeros((len(lengths),) + data.shape[1:], np.float64)
    j = 0
    for s, n in enumerate(lengths.tolist()):
        for _ in range(n):
            row = data[j if indices is None else int(indices[j])]
            out[s] += row if weights is None else float(weights[j]) * row
            j += 1
    return out


def naive_segment_means(data, lengths, indices=None):
    """The segment sums divided by the lengths (an empty segment stays 0); float64."""
    out = naive_segment_sums(data, lengths, indices)
    for s, n in enumerate(lengths.tolist()):
        if n:
            out[s] /= n
    return out


def naive_mean_gradient(grads, lengths):
    """The gradient of a segment mean: each row of segment s gets grads[s] / length."""
    rows = [
        grads[s].astype(np.float64) / n
        for s, n in enumerate(lengths.tolist())
        for _ in range(n)
    ]
    shape = (sum(lengths.tolist()),) + grads.shape[1:]
    return [np.array(rows, np.float64).reshape(shape).astype(grads.dtype)]


def naive_weighted_gradients(weights, grads, lengths, data=None, indices=None):
    """The gradients of a weighted segment sum: each row's grads[s] * weight, and,
    given the data (and indices), each weight's sum(grads[s] * row)."""
    values, weight_grads = [], []
    j = 0
    for s, n in enumerate(lengths.tolist()):
        for _ in range(n):
            values.append(grads[s].astype(np.float64) * float(weights[j]))
            if data is not None:
                row = data[j if indices is None else int(indices[j])]
                weight_grads.append(float(np.sum(grads[s].astype(np.float64) * row)))
            j += 1
    shape = (j,) + grads.shape[1:]
    out = [np.array(values, np.float64).reshape(shape).astype(grads.dtype)]
    if data is not None:
        out.append(np.array(weight_grads, grads.dtype))
    return out


def check_lengths_errors(
    op,
    inputs,
    *,
    not_a_vector,
    wide,
    negative=None,
    vector_message="LENGTHS must be a vector",
    long_message=LONG_LENGTHS,
):
    """Caffe2's errors for a LENGTHS input (the last one, after ``inputs``) that is
    ``not_a_vector`` (int32), ``wide`` (the lengths as int64), or (when given) has a
    ``negative`` length."""
    testing.check_raises(
        op, [*inputs, np.array(not_a_vector, np.int32)], ShapeError, vector_message
    )
    testing.check_raises(
        op, [*inputs, np.array(wide, np.int64)], DTypeError, long_message
    )
    if negative is not None:
        testing.check_raises(
            op,
            [*inputs, np.array(negative, np.int32)],
            EnforceError,
            "Segment lengths must be non-negative",
        )
