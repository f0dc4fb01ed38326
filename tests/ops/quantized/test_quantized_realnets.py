"""Glow's Caffe2 importer test nets for the rowwise-quantised lookups, run end to
end with the inputs glow's tests/unittests/Caffe2ImporterTest.cpp feeds, compared
with the outputs it states (within its tolerances)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from caffe2lite.errors import UnknownArgumentWarning
from caffe2lite.protoio import load_net
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

NETS = Path("/work/shared/realnets/glow_caffe2Models")
pytestmark = pytest.mark.skipif(not NETS.is_dir(), reason="glow nets not available")


def _init(ws: Workspace, name: str) -> list[str]:
    """Run the init net and return the blobs it made; GivenTensorByteStringToUInt8Fill
    (another family's op) is decoded here when it is not registered."""
    init = load_net(NETS / name)
    for op in init.op:
        if (
            registry.find(op.type) is None
            and op.type == "GivenTensorByteStringToUInt8Fill"
        ):
            args = {a.name: a for a in op.arg}
            raw = np.frombuffer(args["values"].strings[0], np.uint8)
            ws.feed_blob(op.output[0], raw.reshape(tuple(args["shape"].ints)).copy())
        else:
            ws.run_operator_once(op)
    return [out for op in init.op for out in op.output]


def run(predict: str, init: str, **inputs) -> np.ndarray:
    ws = Workspace()
    made = _init(ws, init)
    for name, value in inputs.items():
        ws.feed_blob(name, value)
    net = load_net(NETS / predict)
    # Some of these predict nets list external inputs but not the init net's
    # blobs; Caffe2 itself refuses such a net ("Source for input data is
    # unknown"), glow's loader merges the two nets. Declare them, as a predictor
    # exporter would.
    net.external_input.extend(b for b in made if b not in net.external_input)
    ws.run_net_once(net)
    return ws.fetch_blob(net.external_output[0])


SLS_OUT = np.array([[5.5, 6.9], [0, 0], [6.8, 9.1], [1.0, 1.2], [3.0, 3.6]], np.float32)
SLS_IN = {
    "indices": np.array([2, 0, 1, 2, 0, 0, 0, 0], np.int64),
    "lengths": np.array([2, 0, 2, 1, 3], np.int32),
}
SLWS_OUT = np.array([[0.5], [0], [0], [25]], np.float32)
SLWS_IN = {
    "indices": np.array([1, 0, 2, 0, 1, 2, 2, 0], np.int64),
    "lengths": np.array([3, 0, 3, 2], np.int32),
}


def test_sparse_lengths_sum_fused_8bit_rowwise():
    y = run(
        "fused_rowwise_quantized_sparse_lengths_sum_predict_net.pbtxt",
        "fused_rowwise_quantized_sparse_lengths_sum_init_net.pbtxt",
        **SLS_IN,
    )
    np.testing.assert_allclose(y, SLS_OUT, atol=0.02)


def test_sparse_lengths_sum_fused_8bit_rowwise_all_lengths_one():
    # length1 is glow's own argument: Caffe2 ignored it, caffe2lite warns.
    with pytest.warns(UnknownArgumentWarning, match="'length1'"):
        y = run(
            "fused_rowwise_quantized_sparse_lengths_sum_predict_net_length1.pbtxt",
            "fused_rowwise_quantized_sparse_lengths_sum_init_net.pbtxt",
            indices=np.array([2, 0, 1, 2, 0], np.int64),
            lengths=np.ones(5, np.int32),
        )
    want = [[4.5, 5.7], [1.0, 1.2], [2.3, 3.4], [4.5, 5.7], [1.0, 1.2]]
    np.testing.assert_allclose(y, np.array(want, np.float32), atol=0.02)


@pytest.mark.parametrize(
    "net",
    [
        "fused_rowwise_quantized_sparse_lengths_weighted_sum_predict_net.pbtxt",
        "fused_rowwise_quantized_sparse_lengths_weighted_sum_avg_length_predict_net.pbtxt",
    ],
)
def test_sparse_lengths_weighted_sum_fused_8bit_rowwise(net):
    # average_lookup_length is glow's own argument: Caffe2 ignored it.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", ".*argument 'average_lookup_length'", UnknownArgumentWarning
        )
        y = run(
            net,
            "fused_rowwise_quantized_sparse_lengths_weighted_sum_init_net.pbtxt",
            **SLWS_IN,
        )
    np.testing.assert_allclose(y, SLWS_OUT, atol=0.02)


def test_sparse_lengths_sum_fused_4bit_rowwise():
    # Glow states only the output's type and shape, (5, 10) float32; the rows of
    # the table have scale 0 and biases 2, -1.75 and 2.65625 (float16).
    y = run(
        "4bit_fused_rowwise_quantized_sparse_lengths_sum_predict_net.pbtxt",
        "4bit_fused_rowwise_quantized_sparse_lengths_sum_init_net.pbtxt",
        **SLS_IN,
    )
    assert y.dtype == np.float32 and y.shape == (5, 10)
    rows = np.array([2.0, -1.75, 2.65625], np.float32)
    want = [rows[2] + rows[0], 0, rows[1] + rows[2], rows[0], 3 * rows[0]]
    np.testing.assert_allclose(y, np.repeat(np.array(want, np.float32)[:, None], 10, 1))


def test_sparse_lengths_sum_8bits_rowwise():
    y = run(
        "rowwise_quantized_sparse_lengths_sum_predict_net.pbtxt",
        "rowwise_quantized_sparse_lengths_sum_init_net.pbtxt",
        **SLS_IN,
    )
    np.testing.assert_allclose(y, SLS_OUT, atol=0.02)


def test_sparse_lengths_weighted_sum_8bits_rowwise():
    y = run(
        "rowwise_quantized_sparse_lengths_weighted_sum_predict_net.pbtxt",
        "rowwise_quantized_sparse_lengths_weighted_sum_init_net.pbtxt",
        **SLWS_IN,
    )
    np.testing.assert_allclose(y, SLWS_OUT, atol=0.03)
