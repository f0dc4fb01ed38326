"""Dropout / DropoutGrad: inference passes X through; training keeps each element with
probability 1 - ratio (checked at the limits, by invariants over seeds and by a
statistical bound) and scales by 1 / (1 - ratio); the gradient reuses the mask."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, DeviceOption, GradientRegistry
from caffe2lite.errors import SchemaError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.workspace import Workspace


def _run(x, seed, **args):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run(CreateOperator("Dropout", ["X"], ["Y", "mask"],
                          device_option=DeviceOption(caffe2_pb2.CPU, random_seed=seed), **args))
    return ws.fetch_blob("Y"), ws.fetch_blob("mask")


def test_inference_is_identity():
    x = np.arange(6, dtype=np.float32)
    testing.check_reference(CreateOperator("Dropout", ["X"], ["Y"], is_test=1, ratio=0.9), [x],
                            lambda x: [x])


@pytest.mark.parametrize("ratio", [0.0, 1.0])
def test_limits(ratio):
    x = np.arange(1, 7, dtype=np.float32)
    y, mask = _run(x, 1, ratio=ratio)
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask, np.full(6, ratio == 0.0))
    np.testing.assert_array_equal(y, x if ratio == 0 else np.zeros(6, np.float32))


def test_invariants_and_rate():
    x = np.full(20000, 3.0, np.float32)
    kept = 0
    for seed in range(5):
        y, mask = _run(x, seed, ratio=0.3)
        np.testing.assert_allclose(y[mask], 3.0 / 0.7, rtol=1e-6)
        assert not y[~mask].any()
        kept += int(mask.sum())
    p = kept / (5 * x.size)
    assert abs(p - 0.7) < 4 * np.sqrt(0.7 * 0.3 / (5 * x.size))
    np.testing.assert_array_equal(_run(x, 7, ratio=0.3)[1], _run(x, 7, ratio=0.3)[1])


def test_training_needs_the_mask_output():
    testing.check_raises(CreateOperator("Dropout", ["X"], ["Y"]), [np.ones(3, np.float32)], SchemaError,
                         "writes its mask to a second output")


def test_gradient():
    op = CreateOperator("Dropout", ["X"], ["Y", "mask"], ratio=0.5)
    grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        ("DropoutGrad", ["Y_grad", "mask"], ["X_grad"])]
    testing.check_reference(CreateOperator("DropoutGrad", ["dY", "mask"], ["dX"], ratio=0.5),
                            [np.array([1.0, 2.0, 3.0], np.float32), np.array([True, False, True])],
                            lambda dy, m: [np.array([2.0, 0.0, 6.0], np.float32)])
    test_op = CreateOperator("Dropout", ["X"], ["Y"], is_test=1)
    grads, _ = GradientRegistry.GetBackwardPass([test_op], {"Y": "Y_grad"})
    assert [list(g.input) for g in grads] == [["Y_grad"]]
