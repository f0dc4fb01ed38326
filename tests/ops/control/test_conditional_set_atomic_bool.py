from __future__ import annotations

import threading

import numpy as np
import pytest

from caffe2lite import core
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, GradientError, ShapeError
from caffe2lite.ops.control.conditional_set_atomic_bool import AtomicBool
from caffe2lite.workspace import Workspace

OP = CreateOperator("ConditionalSetAtomicBool", ["flag", "cond"], [])


def _run(flag, cond):
    ws = Workspace()
    ws._blobs["flag"] = flag  # as CreateAtomicBool would have left it
    ws.feed_blob("cond", cond)
    ws.run(OP)
    return ws


@pytest.mark.parametrize("start,cond,want", [
    (False, [True], True), (False, [False], False), (True, [False], True), (True, [True], True),
    (False, [True, False], True), (False, [False, True], False)])
def test_sets_only_when_the_first_element_is_true(start, cond, want):
    # Caffe2: store(true) when condition.data<bool>()[0]; never stores false
    flag = AtomicBool(start)
    ws = _run(flag, np.array(cond))
    assert flag.load() is want
    assert ws._blobs["flag"] is flag  # the same shared object, changed in place


def test_in_a_while_loop_net():
    """The use it was made for: a loop body raises a flag the outer net reads."""
    body = core.Net("body")
    body.Add(["i", "one"], "i")
    body.GE(["i", "three"], "hit")
    body.ConditionalSetAtomicBool(["flag", "hit"], [])
    body.LT(["i", "five"], "cond")
    ws = Workspace()
    flag = AtomicBool()
    ws._blobs["flag"] = flag
    for name, value in [("cond", np.array(True)), ("i", np.array([0], np.int32)),
                        ("one", np.array([1], np.int32)), ("three", np.array([3], np.int32)),
                        ("five", np.array([5], np.int32))]:
        ws.feed_blob(name, value)
    ws.run(CreateOperator("While", ["cond"], ["i"], loop_net=body.Proto()))
    assert flag.load() and ws.fetch_blob("i")[0] == 5


def test_threads_share_the_flag():
    flag = AtomicBool()
    threads = [threading.Thread(target=_run, args=(flag, np.array([i == 7]))) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert flag.load()


def test_errors():
    with pytest.raises(DTypeError, match="wrong type for the Blob instance. Blob contains "
                                         "caffe2::Tensor while caller expects "
                                         r"std::unique_ptr<std::atomic<bool>>"):
        _run(np.array([True]), np.array([True]))
    with pytest.raises(DTypeError, match="caller expects elements to be bool while tensor "
                                         "contains int"):
        _run(AtomicBool(), np.array([1], np.int32))
    flag = AtomicBool()
    with pytest.raises(ShapeError, match="condition.numel"):
        _run(flag, np.zeros(0, bool))
    assert not flag.load()


def test_gradient_should_not_be_asked():
    with pytest.raises(GradientError, match="One should not call gradient for operator "
                                            "ConditionalSetAtomicBool"):
        GradientRegistry.GetGradientForOp(OP, [])
