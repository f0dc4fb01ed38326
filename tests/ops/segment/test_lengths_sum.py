from __future__ import annotations

import re

import numpy as np
import pytest
from c2l_test_support.segments import (
    BLOCKS,
    FLOATS,
    LENGTHS,
    SEEDS,
    check_lengths_errors,
    naive_segment_sums,
    segment_data,
)
from hypothesis import given, settings

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.protoio import load_net
from caffe2lite.workspace import Workspace

REALNETS = "/work/shared/realnets/glow_caffe2Models"


def naive_lengths_sum(data, lengths):
    return [naive_segment_sums(data, lengths).astype(data.dtype)]


def naive_expand(grads, lengths):
    rows = []
    for s, n in enumerate(lengths.tolist()):
        rows.extend([grads[s]] * n)
    return [
        np.array(rows, grads.dtype).reshape((sum(lengths.tolist()),) + grads.shape[1:])
    ]


@settings(max_examples=30, deadline=None)
@given(lengths=LENGTHS, block=BLOCKS, dtype=FLOATS, seed=SEEDS)
def test_matches_naive_loop(lengths, block, dtype, seed):
    _, data, lens = segment_data(lengths, block, dtype, seed)
    op = CreateOperator("LengthsSum", ["D", "L"], ["O"])
    testing.check_reference(op, [data, lens], naive_lengths_sum, atol=1e-5)


def test_doc_example_empty_segments_and_empty_data():
    op = CreateOperator("LengthsSum", ["D", "L"], ["O"])
    testing.check_reference(
        op,
        [np.array([2, 4, 3, 1, 2, 10], np.float32), np.array([2, 3, 1], np.int32)],
        lambda d, l: [np.array([6, 6, 10], np.float32)],
        atol=0,
    )
    testing.check_reference(
        op,
        [np.array([[1, 2], [3, 4]], np.float32), np.array([0, 2, 0], np.int32)],
        lambda d, l: [np.array([[0, 0], [4, 6], [0, 0]], np.float32)],
    )
    testing.check_reference(
        op,
        [np.zeros((0, 3), np.float32), np.array([0, 0], np.int32)],
        lambda d, l: [np.zeros((2, 3), np.float32)],
    )
    testing.check_reference(
        op,
        [np.zeros((0, 3), np.float32), np.zeros(0, np.int32)],
        lambda d, l: [np.zeros((0, 3), np.float32)],
    )


def test_long_segments_and_many_groups():
    # Segments longer than the kernel's chunk and thousands of short ones.
    rng = np.random.default_rng(1)
    lens = rng.integers(0, 30, 3000).astype(np.int32)
    lens[[5, 700]] = [30000, 60000]  # longer than the 26214-row chunk
    data = rng.standard_normal((int(lens.sum()), 5)).astype(np.float32)
    got = _run("LengthsSum", [data, lens])
    starts = np.cumsum(lens) - lens
    want = np.stack(
        [data[s : s + n].astype(np.float64).sum(0) for s, n in zip(starts, lens)]
    )
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def test_errors():
    op = CreateOperator("LengthsSum", ["D", "L"], ["O"])
    data = np.ones((4, 2), np.float32)
    check_lengths_errors(op, [data], not_a_vector=[[4]], wide=[4], negative=[5, -1])
    testing.check_raises(
        op,
        [np.ones((4, 2), np.int32), np.array([4], np.int32)],
        DTypeError,
        re.escape("Unsupported input type: int."),
    )
    testing.check_raises(
        op,
        [data, np.array([2, 3], np.int32)],
        EnforceError,
        re.escape(
            "When calculating the 1th output with length=3, the index is out of bounds: "
            "4 vs. valid range 0 to 4"
        ),
    )
    testing.check_raises(op, [data, np.array([1, 2], np.int32)], EnforceError, "3 != 4")


def test_gradient_ops():
    grads = np.arange(6, dtype=np.float32).reshape(3, 2)
    lens = np.array([2, 0, 1], np.int32)
    data = np.ones((3, 2), np.float32)
    testing.check_reference(
        CreateOperator("LengthsIndicesInGradientSumGradient", ["G", "L", "D"], ["DG"]),
        [grads, lens, data],
        lambda g, l, d: naive_expand(g, l),
        atol=0,
    )
    testing.check_reference(
        CreateOperator("LengthsSumGradient", ["G", "L"], ["DG"]),
        [grads, lens],
        naive_expand,
        atol=0,
    )
    op = CreateOperator("LengthsSumGradient", ["G", "L"], ["DG"])
    testing.check_raises(
        op,
        [grads, np.array([1, 2], np.int32)],
        EnforceError,
        re.escape("numSegments == segmentGrads.dim(0)"),
    )
    testing.check_raises(
        op,
        [np.array(1, np.float32), lens],
        ShapeError,
        re.escape("segmentGradsInput.dim() > 0"),
    )
    testing.check_raises(
        op, [grads, np.ones((3, 1), np.int32)], ShapeError, "LENGTHS must be a vector"
    )


def test_gradient_maker_and_numeric_gradient():
    op = CreateOperator("LengthsSum", ["X", "L"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "LengthsIndicesInGradientSumGradient", ["Y_grad", "L", "X"], ["X_grad"]
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad" and grads.get("L") is None
    _, data, lens = segment_data([2, 0, 3, 1], [2], np.float64, 3)
    testing.check_gradient(op, [data, lens], 0)


def test_glow_lengths_sum_net():
    # Caffe2ImporterTest.lengthsSum loads data {10, 2, 3} and lengths {5}, and expects an
    # output of shape {5, 2, 3} (it checks only the shape; the values are ours).
    net = load_net(f"{REALNETS}/lengths_sum.pbtxt")
    ws = Workspace()
    data = np.arange(60, dtype=np.float32).reshape(10, 2, 3)
    lens = np.array([2, 2, 2, 2, 2], np.int32)
    ws.feed_blob("data", data)
    ws.feed_blob("lengths", lens)
    ws.run_net_once(net)
    result = ws.fetch_blob("result")
    assert result.shape == (5, 2, 3)
    np.testing.assert_array_equal(result, naive_lengths_sum(data, lens)[0])


def _run(op_type, inputs, **args):
    names = [f"in{i}" for i in range(len(inputs))]
    ws = Workspace()
    for n, v in zip(names, inputs):
        ws.feed_blob(n, v)
    ws.run_operator_once(CreateOperator(op_type, names, ["out"], **args))
    return ws.fetch_blob("out")


@pytest.mark.parametrize("lens", [[3], [0], [1, 1, 1]])
def test_one_segment_and_unit_segments(lens):
    lens = np.array(lens, np.int32)
    data = np.arange(int(lens.sum()) * 2, dtype=np.float32).reshape(-1, 2)
    np.testing.assert_array_equal(
        _run("LengthsSum", [data, lens]), naive_lengths_sum(data, lens)[0]
    )


def test_equal_lengths_and_weighted_runs():
    # All segments of one length take the kernel's contiguous path (views, no gather).
    rng = np.random.default_rng(5)
    lens = np.full(5000, 3, np.int32)
    data = rng.standard_normal((15000, 4)).astype(np.float32)
    want = data.astype(np.float64).reshape(5000, 3, 4).sum(axis=1)
    np.testing.assert_allclose(_run("LengthsSum", [data, lens]), want, rtol=1e-5, atol=1e-5)
    lens = np.ones(15000, np.int32)
    np.testing.assert_array_equal(_run("LengthsSum", [data, lens]), data)


# -- shape and cost inference ---------------------------------------------------------


def _infer(op_type, ins, outs, shapes, **kw):
    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op

    return infer_op(CreateOperator(op_type, ins, outs, **kw), shapes)



def test_shape_inference():
    import numpy as np

    from caffe2lite.schema.shapes import TensorShape

    f4, i4 = np.dtype(np.float32), np.dtype(np.int32)
    data, lengths = TensorShape((6, 2, 3), f4), TensorShape((4,), i4)
    assert _infer("LengthsSum", ["D", "L"], ["O"], [data, lengths]) == [
        TensorShape((4, 2, 3), f4)]
    assert _infer("LengthsSum", ["D", "L"], ["O"], [data, TensorShape(("K",), i4)]) == [
        TensorShape(("K", 2, 3), f4)]
    grads = TensorShape((4, 2, 3), f4)
    want = [TensorShape(("sum(LENGTHS)", 2, 3), f4)]
    assert _infer("LengthsSumGradient", ["G", "L"], ["dD"], [grads, lengths]) == want
    assert _infer("LengthsIndicesInGradientSumGradient", ["G", "L", "D"], ["dD"],
                  [grads, lengths, data]) == want
