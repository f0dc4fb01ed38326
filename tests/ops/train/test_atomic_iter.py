from __future__ import annotations

import threading

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, SchemaError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema.registry import GRADIENTS, NO_GRADIENT
from caffe2lite.workspace import Workspace


def _net(*ops, inputs=("ITER",)):
    net = caffe2_pb2.NetDef(name="atomic")
    net.op.extend(ops)
    net.external_input.extend(inputs)
    return net


MUTEX = CreateOperator("CreateMutex", [], ["mutex"])
ATOMIC = CreateOperator("AtomicIter", ["mutex", "ITER"], ["ITER"])


def test_increments_under_the_mutex_and_releases_it():
    ws = Workspace()
    ws.feed_blob("ITER", np.array([41], np.int64))
    ws.run_operator_once(MUTEX)
    ws.run_operator_once(ATOMIC)
    np.testing.assert_array_equal(ws.fetch_blob("ITER"), np.array([42], np.int64))
    assert not ws.fetch_blob("mutex").locked()


def test_counts_runs_of_a_created_net():
    ws = Workspace()
    ws.feed_blob("ITER", np.zeros(1, np.int64))
    ws.run_operator_once(MUTEX)
    ws.create_net(_net(ATOMIC, inputs=("ITER", "mutex")))
    ws.run_net("atomic", num_iter=5)
    np.testing.assert_array_equal(ws.fetch_blob("ITER"), [5])


def test_waits_for_a_held_mutex():
    ws = Workspace()
    ws.feed_blob("ITER", np.zeros(1, np.int64))
    ws.run_operator_once(MUTEX)
    mutex = ws.fetch_blob("mutex")
    with mutex:
        worker = threading.Thread(target=ws.run_operator_once, args=(ATOMIC,))
        worker.start()
        worker.join(0.05)
        assert worker.is_alive()  # blocked on the lock
        np.testing.assert_array_equal(ws.fetch_blob("ITER"), [0])
    worker.join(5)
    np.testing.assert_array_equal(ws.fetch_blob("ITER"), [1])


def test_mutex_input_must_be_a_mutex():
    testing.check_raises(ATOMIC, [np.zeros(1), np.zeros(1, np.int64)], DTypeError,
                         r"wrong type for the Blob instance\. Blob contains caffe2::Tensor "
                         r"while caller expects std::unique_ptr<std::mutex>")


@pytest.mark.parametrize("counter, error, match", [
    (np.zeros(1, np.float32), DTypeError,
     "caller expects elements to be long while tensor contains float"),
    (np.zeros(3, np.int64), EnforceError,
     r"The output of IterOp exists, but not of the right size\."),
    (np.array([-5], np.int64), EnforceError, r"Previous iteration number is negative\."),
])
def test_counter_errors(counter, error, match):
    testing.check_raises(_net(MUTEX, ATOMIC), {"ITER": counter}, error, match)


def test_must_be_in_place_on_the_counter():
    op = CreateOperator("AtomicIter", ["mutex", "ITER"], ["other"])
    testing.check_raises(_net(MUTEX, op), {"ITER": np.zeros(1, np.int64)}, SchemaError,
                         r"Input index 1 \(ITER\) and output idx 0 \(other\) are not in-place")


def test_no_gradient():
    assert GRADIENTS["AtomicIter"].kind == NO_GRADIENT


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import UNKNOWN, TensorShape

    one = TensorShape((1,), np.int64)
    op = CreateOperator("AtomicIter", ["m", "it"], ["it"])
    assert infer_op(op, [UNKNOWN, one]) == [one]
