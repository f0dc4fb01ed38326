from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import core, testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, GradientError, SchemaError, ShapeError
from caffe2lite.inference import infer_op, op_cost
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO
from caffe2lite.schema.shapes import TensorShape

F = np.float32


def naive_adagrad(param, moment, grad, lr, epsilon=1e-5, decay=1.0, weight_decay=0.0,
                  outputs=2):
    """Element by element in float32, as Caffe2's loop (the update form of each
    output count)."""
    w, h, g = param.ravel(), moment.ravel(), grad.ravel()
    nw, nh = np.empty_like(w), np.empty_like(h)
    elr, upd = np.empty_like(g), np.empty_like(g)
    rate = F(lr.ravel()[0])
    for i in range(w.size):
        gi = F(np.float64(F(weight_decay)) * np.float64(w[i]) + np.float64(g[i]))  # fma
        hi = F(F(decay) * h[i] + gi * gi)
        nh[i] = hi
        elr[i] = F(rate / F(np.sqrt(hi) + F(epsilon)))
        upd[i] = F(elr[i] * gi)
        if outputs == 2:
            nw[i] = F(w[i] + F(rate * gi) / F(np.sqrt(hi) + F(epsilon)))
        elif outputs == 3:
            nw[i] = F(w[i] + elr[i] * gi)
        else:
            nw[i] = F(w[i] + upd[i])
    out = [nw.reshape(param.shape), nh.reshape(moment.shape),
           elr.reshape(grad.shape), upd.reshape(grad.shape)]
    return out[:outputs]


def _op(outputs=2, **kwargs):
    names = ["param", "moment", "effective_lr", "update"][:outputs]
    return CreateOperator("Adagrad", ["param", "moment", "grad", "lr"], names, **kwargs)


# Caffe2's adagrad_test: random param/moment/grad, lr, epsilon, decay, weight_decay.
@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       outputs=st.sampled_from([2, 3, 4]), decay=st.sampled_from([1.0, 0.9]),
       weight_decay=st.sampled_from([0.0, 0.1]), seed=st.integers(0, 2**16))
def test_matches_loop(shape, outputs, decay, weight_decay, seed):
    rng = np.random.default_rng(seed)
    param, grad = (rng.standard_normal(shape).astype(F) for _ in range(2))
    moment = np.abs(rng.standard_normal(shape)).astype(F)
    lr = np.array([rng.uniform(-1, 1)], F)
    kw = {"epsilon": 1e-5, "decay": decay, "weight_decay": weight_decay}
    testing.check_reference(_op(outputs, **kw), [param, moment, grad, lr],
                            lambda *a: naive_adagrad(*a, outputs=outputs, **kw),
                            atol=0, rtol=0)


def test_doc_example_and_defaults():
    got = testing.check_reference(
        _op(), [np.array([1, 2], F), np.array([0, 1], F), np.array([3, 0], F),
                np.array([-0.5], F)], naive_adagrad)
    np.testing.assert_allclose(got[0], [1 - 0.5 * 3 / (3 + 1e-5), 2], rtol=1e-6)


def test_empty_and_scalar():
    e = np.zeros((0, 3), F)
    testing.check_reference(_op(4), [e, e, e, np.ones(1, F)],
                            lambda *a: naive_adagrad(*a, outputs=4))
    s = np.array(2.0, F)
    testing.check_reference(_op(), [s, np.array(1.0, F), np.array(1.0, F),
                                    np.ones(1, F)], naive_adagrad)


def test_in_place_outputs_allowed():
    op = CreateOperator("Adagrad", ["p", "m", "g", "lr"], ["p", "m"])
    testing.check_reference(op, [np.ones(3, F), np.ones(3, F), np.ones(3, F),
                                 np.ones(1, F)], naive_adagrad)


@pytest.mark.parametrize("inputs, error, match", [
    ([np.ones(3, F), np.ones(2, F), np.ones(3, F), np.ones(1, F)], ShapeError,
     (r"Input\(GRAD\)\.numel\(\) == Input\(MOMENT_1\)\.numel\(\)\. 3 vs 2\. PARAM size: 3, "
     r"GRAD size: 3, MOMENT_1 size: 2, LR size: 1")),
    ([np.ones(2, F), np.ones(3, F), np.ones(3, F), np.ones(1, F)], ShapeError,
     r"Input\(GRAD\)\.numel\(\) == Input\(PARAM\)\.numel\(\)\. 3 vs 2"),
    ([np.ones(3), np.ones(3, F), np.ones(3, F), np.ones(1, F)], DTypeError,
     "caller expects elements to be float while tensor contains double"),
    ([np.ones(3, F), np.ones(3, F), np.ones(3, F), np.ones(0, F)], ShapeError,
     "the learning rate blob is empty"),
])
def test_errors(inputs, error, match):
    testing.check_raises(_op(), inputs, error, match)


def test_schema():
    op = CreateOperator("Adagrad", ["p", "m", "g", "lr"], ["p", "g"])
    testing.check_raises(op, [np.ones(1, F)] * 4, SchemaError,
                         r"Input index 2 and output idx 1 \(g\) are set to be in-place")
    op = CreateOperator("Adagrad", ["p", "m", "g", "lr"], ["p"])
    testing.check_raises(op, [np.ones(1, F)] * 4, SchemaError,
                         r"Output size 1 not in range \[min=2, max=4\]")


def test_shapes_and_cost():
    p, lr = TensorShape((4, 3), F), TensorShape((1,), F)
    outs = infer_op(_op(4), [p, p, p, lr])
    assert [o.dims for o in outs] == [(4, 3)] * 4
    cost = op_cost(_op(3), [p, p, p, lr])
    assert (cost.flops, cost.bytes_written, cost.bytes_read) == (
        120, 12 * 4 + 4 + 12 * 4, 12 * 4 + 4 + 12 * 4 + 12 * 8)


def test_gradient_is_should_not_do():
    assert GRADIENTS["Adagrad"].kind == SHOULD_NOT_DO
    with pytest.raises(GradientError, match="One should not call gradient for operator Adagrad"):
        core.GradientRegistry.GetBackwardPass([_op()], {"param": "param_grad"})


@pytest.mark.parametrize("outputs", [2, 3, 4])
def test_negative_moment_gives_nan_without_warnings(outputs):
    # Caffe2's adagrad_test draws the moment from [-1, 1]: the square root of a negative
    # moment is NaN in C float arithmetic, silently; numpy must not warn either.
    import warnings

    from caffe2lite import workspace

    names = ["param_out", "moment_out", "effective_lr", "update"][:outputs]
    op = CreateOperator("Adagrad", ["param", "moment", "grad", "lr"], names, epsilon=1e-5)
    feeds = {"param": np.ones(2, np.float32), "moment": np.array([-4.0, 1.0], np.float32),
             "grad": np.zeros(2, np.float32), "lr": np.array([0.1], np.float32)}
    workspace.ResetWorkspace()
    for name, value in feeds.items():
        workspace.FeedBlob(name, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            workspace.RunOperatorOnce(op)
        out = workspace.FetchBlob("param_out")
    finally:
        workspace.ResetWorkspace()
    assert np.isnan(out[0]) and out[1] == 1.0
