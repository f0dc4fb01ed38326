"""FillExamplesWithIndicator: a naive loop, glow's importer net with the inputs
Caffe2ImporterTest feeds, edges and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.protoio import load_net
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

NETS = Path("/work/shared/realnets/glow_caffe2Models")
OP = CreateOperator("FillExamplesWithIndicator", ["D", "I"], ["Y"])


def naive(data, indicator):
    rows, v = [], 0
    for flag in indicator.tolist():
        if flag and v < data.shape[0]:
            rows.append(data[v])
            v += 1
        else:
            rows.append(np.zeros(data.shape[1:], data.dtype))
    return [np.array(rows, data.dtype).reshape((len(indicator),) + data.shape[1:])]


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 10),
    tail=st.sampled_from([(), (3,), (2, 2)]),
    itype=st.sampled_from([np.int32, np.int64, np.bool_]),
    dtype=st.sampled_from([np.float32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop(n, tail, itype, dtype, seed):
    rng = np.random.default_rng(seed)
    indicator = rng.integers(0, 2, n).astype(itype)
    data = rng.integers(-9, 9, (int(np.count_nonzero(indicator)),) + tail).astype(dtype)
    testing.check_reference(OP, [data, indicator], naive)


def test_extra_marks_stay_zero_and_errors():
    (y,) = testing.check_reference(
        OP, [np.array([5.0]), np.array([1, 1, 0], np.int32)], naive
    )
    assert y.tolist() == [5.0, 0.0, 0.0]
    testing.check_raises(
        OP,
        [np.ones(3), np.array([1, 1, 0], np.int32)],
        EnforceError,
        "must be at least that of the first dimension of data",
    )
    testing.check_raises(
        OP,
        [np.ones(1), np.array([1.0])],
        DTypeError,
        "Indicator should be of int32 or int64 type.",
    )
    testing.check_raises(
        OP,
        [np.ones(1), np.ones((1, 1), np.int32)],
        ShapeError,
        "Indicator should be 1D tensor.",
    )


@pytest.mark.skipif(not NETS.is_dir(), reason="glow nets not available")
def test_glow_importer_net():
    # Caffe2ImporterTest FillExamplesWithIndicator: n=20 int32 indicators in {0, 1},
    # data (m, 3, 4) in [-3, 3] with m the number of ones; row d of the output is the
    # next data row where indicator[d] is 1, else zeros (checked within 1e-3).
    rng = np.random.default_rng(11)
    indicator = rng.integers(0, 2, 20).astype(np.int32)
    data = rng.uniform(-3, 3, (int(indicator.sum()), 3, 4)).astype(np.float32)
    ws = Workspace()
    ws.feed_blob("data", data)
    ws.feed_blob("indicator", indicator)
    ws.run_net_once(load_net(NETS / "fill_examples_with_indicator.pbtxt"))
    y = ws.fetch_blob("output")
    assert y.shape == (20, 3, 4)
    np.testing.assert_allclose(y, naive(data, indicator)[0], atol=1e-3)


def test_gradient_decision():
    assert (
        registry.GRADIENTS["FillExamplesWithIndicator"].kind
        == registry.NOT_IMPLEMENTED_YET
    )
