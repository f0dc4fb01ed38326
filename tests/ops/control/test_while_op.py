from __future__ import annotations

import re

import numpy as np
import pytest

from caffe2lite import core, testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, EnforceError, GradientError, ShapeError
from caffe2lite.workspace import Workspace


def _net(name, build):
    net = core.Net(name)
    build(net)
    return net.Proto()


LOOP = _net("loop", lambda n: (n.Add(["i", "one"], "i"), n.Mul(["acc", "two"], "acc")))
COND = _net("cond", lambda n: n.LT(["i", "limit"], "cond"))


def naive_while(cond, i, limit):
    """acc doubles once per iteration while i < limit (tested before each)."""
    i, acc = int(i[0]), 1.0
    while i < int(limit[0]):
        i += 1
        acc *= 2
    return [np.array([i], np.int32), np.array([acc], np.float32)]


@pytest.mark.parametrize("start,limit", [(0, 3), (3, 3), (5, 3), (0, 0), (-2, 4)])
def test_counts_with_a_cond_net(start, limit):
    # control_ops_test.py / net_builder_test.py: While with loop and condition nets
    op = CreateOperator("While", ["cond", "i", "limit", "one", "two", "acc"], ["i", "acc"],
                        loop_net=LOOP, cond_net=COND)
    inputs = [np.array(True), np.array([start], np.int32), np.array([limit], np.int32),
              np.array([1], np.int32), np.array([2], np.float32), np.array([1], np.float32)]
    testing.check_reference(op, inputs, lambda c, i, lim, *r: naive_while(c, i, lim))


def test_loop_net_updates_the_condition_itself():
    loop = _net("loop", lambda n: (n.Add(["i", "one"], "i"), n.LT(["i", "limit"], "cond")))
    ws = Workspace()
    for name, value in [("cond", np.array(True)), ("i", np.array([0], np.int32)),
                        ("one", np.array([1], np.int32)), ("limit", np.array([4], np.int32))]:
        ws.feed_blob(name, value)
    ws.run(CreateOperator("While", ["cond"], ["i", "cond"], loop_net=loop))
    assert ws.fetch_blob("i")[0] == 4
    assert not ws.fetch_blob("cond")[0]


def test_false_condition_never_runs_the_body():
    ws = Workspace()
    for name, value in [("cond", np.array([False])), ("i", np.array([7], np.int32)),
                        ("one", np.array([1], np.int32))]:
        ws.feed_blob(name, value)
    loop = _net("loop", lambda n: n.Add(["i", "one"], "i"))
    ws.run(CreateOperator("While", ["cond", "i"], ["i"], loop_net=loop))
    assert ws.fetch_blob("i")[0] == 7


def test_if_inside_the_loop():
    then = _net("then", lambda n: n.Add(["evens", "one"], "evens"))
    body = core.Net("body")
    body.Mod(["i"], "r", divisor=2)
    body.EQ(["r", "zero"], "even")
    body.Proto().op.extend([CreateOperator("If", ["even"], ["evens"], then_net=then)])
    body.Add(["i", "one"], "i")
    ws = Workspace()
    for name, value in [("cond", np.array(True)), ("i", np.array([0], np.int32)),
                        ("one", np.array([1], np.int32)), ("zero", np.array([0], np.int32)),
                        ("evens", np.array([0], np.int32)), ("limit", np.array([5], np.int32))]:
        ws.feed_blob(name, value)
    ws.run(CreateOperator("While", ["cond"], ["i", "evens"], loop_net=body.Proto(),
                          cond_net=COND))
    assert ws.fetch_blob("evens")[0] == 3  # 0, 2, 4


def test_errors():
    op = CreateOperator("While", ["cond"], [], loop_net=LOOP)
    testing.check_raises(op, [np.array(1, np.int32)], DTypeError,
                         "caller expects elements to be bool while tensor contains int")
    testing.check_raises(op, [np.zeros(2, bool)], ShapeError,
                         re.escape("Invalid condition tensor in While operator: single value "
                                   "expected"))
    testing.check_raises(op, [b"x"], DTypeError, "Invalid condition in While operator: tensor "
                                                 "expected")
    testing.check_raises(CreateOperator("While", ["cond"], [], cond_net=COND), [np.array(False)],
                         ArgumentError, "loop_net must be specified in While operator")


def test_a_failing_iteration_changes_nothing():
    loop = _net("loop", lambda n: (n.Add(["i", "one"], "i"), n.Add(["i", "bad"], "boom")))
    net = core.Net("main")
    net.Proto().op.extend([CreateOperator("While", ["cond", "i"], ["i"], loop_net=loop)])
    testing.check_raises(net.Proto(), {"cond": np.array(True), "i": np.array([0], np.int32),
                                       "one": np.array([1], np.int32),
                                       "bad": np.ones((2, 2), np.float32)}, EnforceError)


def test_gradient_is_not_available():
    op = CreateOperator("While", ["cond", "x"], ["y"], loop_net=LOOP)
    with pytest.raises(GradientError, match="While should have a gradient but is not "
                                            "implemented yet"):
        GradientRegistry.GetBackwardPass([op], {"y": "y_grad"})
