from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, SchemaError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema.registry import GRADIENTS, NO_GRADIENT
from caffe2lite.workspace import Workspace

ITER = CreateOperator("Iter", ["ITER"], ["ITER"])


@pytest.mark.parametrize("start", [0, 1, 7, 2**40])
def test_increments_in_place(start):
    testing.check_reference(ITER, [np.array([start], np.int64)],
                            lambda it: [np.array([start + 1], np.int64)])


def test_keeps_the_counter_shape():
    testing.check_reference(ITER, [np.array(3, np.int64)], lambda it: [np.array(4, np.int64)])
    testing.check_reference(ITER, [np.array([[3]], np.int64)],
                            lambda it: [np.array([[4]], np.int64)])


def test_counts_the_runs_of_a_created_net():
    ws = Workspace()
    ws.feed_blob("ITER", np.zeros(1, np.int64))
    net = caffe2_pb2.NetDef(name="train")
    net.op.append(ITER)
    net.external_input.append("ITER")
    ws.create_net(net)
    for _ in range(3):
        ws.run_net("train")
    ws.run_net("train", num_iter=4)
    np.testing.assert_array_equal(ws.fetch_blob("ITER"), [7])


def test_without_input_the_op_keeps_the_count():
    ws = Workspace()
    op = CreateOperator("Iter", [], ["it"])
    ws.run_operator_once(op)
    got = ws.fetch_blob("it")
    assert got.dtype == np.int64 and got.tolist() == [1]
    net = caffe2_pb2.NetDef(name="count")
    net.op.append(op)
    ws.create_net(net)
    ws.run_net("count", num_iter=5)
    assert ws.fetch_blob("it").tolist() == [5]  # this instance started from 0


@pytest.mark.parametrize("counter, error, match", [
    (np.zeros(1, np.int32), DTypeError,
     "caller expects elements to be long while tensor contains int"),
    (np.zeros(2, np.int64), EnforceError,
     r"The output of IterOp exists, but not of the right size\. \(blob 'iter=ITER'"),
    (np.array([-1], np.int64), EnforceError, r"Previous iteration number is negative\."),
    (np.array([np.iinfo(np.int64).max], np.int64), EnforceError, "Overflow will happen!"),
])
def test_errors(counter, error, match):
    testing.check_raises(ITER, [counter], error, match)


def test_must_be_in_place():
    op = CreateOperator("Iter", ["a"], ["b"])
    testing.check_raises(op, [np.zeros(1, np.int64)], SchemaError,
                         r"Input index 0 \(a\) and output idx 0 \(b\) are not in-place but "
                         "should be as required by op Iter")


def test_no_gradient():
    assert GRADIENTS["Iter"].kind == NO_GRADIENT


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    one = TensorShape((1,), np.int64)
    assert infer_op(CreateOperator("Iter", ["it"], ["it"]), [one]) == [one]
    assert infer_op(CreateOperator("Iter", [], ["it"]), []) == [one]
