from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError

OP = "WeightedSigmoidCrossEntropyWithLogits"


def naive_weighted_xent(logits, targets, weights):
    d = logits.shape[-1] if logits.ndim else 1
    lf, tf, wf = (a.reshape(-1).tolist() for a in (logits, targets, weights))
    out = []
    for i in range(len(lf) // d if d else 0):
        total = 0.0
        for j in range(i * d, (i + 1) * d):
            x, t = lf[j], tf[j]
            log_sig = -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))
            log_one_minus = -x + log_sig
            total += wf[j] * (t * log_sig + (1 - t) * log_one_minus)
        out.append(-total / d)
    return [np.array(out, logits.dtype).reshape(logits.shape[:-1] if logits.ndim else ())]


def naive_gradient(g, logits, targets, weights):
    d = logits.shape[-1] if logits.ndim else 1
    gf = g.reshape(-1).tolist()
    lf, tf, wf = (a.reshape(-1).tolist() for a in (logits, targets, weights))
    out = [-gf[j // d] / d * (tf[j] - 1 / (1 + math.exp(-lf[j]))) * wf[j] for j in range(len(lf))]
    return [np.array(out, logits.dtype).reshape(logits.shape)]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, dtype, seed):
    # cross_entropy_ops_test.py: test_weighted_sigmoid_cross_entropy_with_logits
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal(shape) * 5).astype(dtype)
    targets = rng.uniform(0, 1, shape).astype(dtype)
    weights = rng.uniform(0, 2, shape).astype(dtype)
    op = CreateOperator(OP, ["logits", "targets", "weights"], ["xent"])
    y = testing.check_reference(op, [logits, targets, weights], naive_weighted_xent, atol=1e-4)[0]
    g = rng.standard_normal(y.shape).astype(dtype)
    grad = CreateOperator(OP + "Gradient", ["g", "logits", "targets", "weights"], ["dl"])
    testing.check_reference(grad, [g, logits, targets, weights], naive_gradient, atol=1e-5)


def test_errors():
    op = CreateOperator(OP, ["logits", "targets", "weights"], ["xent"])
    a = np.zeros((2, 3), np.float32)
    testing.check_raises(op, [a, np.zeros((3, 2), np.float32), a], ShapeError,
                         re.escape("logits.sizes() == targets.sizes()"))
    testing.check_raises(op, [a, a, np.zeros((2, 2), np.float32)], ShapeError,
                         re.escape("weights.sizes() == targets.sizes()"))
    testing.check_raises(op, [a, a, np.zeros((2, 3))], DTypeError, "tensor contains double")
    grad = CreateOperator(OP + "Gradient", ["g", "logits", "targets", "weights"], ["dl"])
    testing.check_raises(grad, [np.ones(3, np.float32), a, a, a], ShapeError,
                         re.escape("g.numel() == outer_size"))


def test_numeric_gradient():
    rng = np.random.default_rng(4)
    shape = (3, 4)
    op = CreateOperator(OP, ["logits", "targets", "weights"], ["xent"])
    testing.check_gradient(op, [rng.standard_normal(shape), rng.uniform(0, 1, shape),
                                rng.uniform(0, 2, shape)], [0])


def test_gradient_ops_list():
    op = CreateOperator(OP, ["L", "T", "W"], ["Y"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(OP + "Gradient", ["Y_grad", "L", "T", "W"], ["L_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
