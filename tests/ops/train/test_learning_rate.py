from __future__ import annotations

import math

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, DTypeError, EnforceError
from caffe2lite.schema.registry import GRADIENTS, NO_GRADIENT


def naive_multiplier(it: int, policy: str, a: dict) -> float:
    """The policies as plain formulas in double precision (defaults as Caffe2's); float
    arguments are first rounded to float32, as Caffe2 stores them."""

    def get(name, default):
        value = a.get(name, default)
        return float(np.float32(value)) if isinstance(value, float) else value

    if policy == "fixed":
        return 1.0
    if policy == "step":
        return get("gamma", 0.0) ** math.floor(it / get("stepsize", 0))
    if policy == "exp":
        return get("gamma", 0.0) ** it
    if policy == "inv":
        return (1 + get("gamma", 0.0) * it) ** -get("power", 0.0)
    if policy == "poly":
        max_iter = get("max_iter", -1) % 2**64  # Caffe2 keeps it as uint64
        return (1 - it / max_iter) ** get("power", 0.0)
    warm_n, start = get("num_iter", 0), get("start_multiplier", 0.0)
    warm = 1.0 if it >= warm_n else start + (1 - start) * it / warm_n
    if policy == "linearWarmup":
        return warm
    if policy == "constantWarmup":
        return get("multiplier", 0.5) if it < warm_n else 1.0
    if policy == "pieceWarmup":
        for m, n in (("m1", "n1"), ("m2", "n2")):
            if it < get(n, 0):
                return get(m, 0.5)
        return get("m3", 0.5)
    if policy == "gate":
        return get("multiplier_1", 1.0) if it < warm_n else get("multiplier_2", 1.0)
    if policy == "hill":
        if it < warm_n:
            return warm
        inv = (1 + get("gamma", 0.0) * (it - warm_n)) ** -get("power", 0.0)
        return max(get("end_multiplier", 0.0), inv)
    assert policy == "alter"
    on, off = get("active_period", -1), get("inactive_period", -1)
    first = get("active_first", True)
    in_first_part = it % (on + off) < (on if first else off)
    return 1.0 if in_first_part == first else 0.0


CASES = [
    ("fixed", {}),
    ("step", {"stepsize": 10, "gamma": 0.5}),
    ("step", {"stepsize": 3, "gamma": 0.9}),
    ("exp", {"gamma": 0.999}),
    ("inv", {"gamma": 0.01, "power": 0.75}),
    ("poly", {"power": 2.0, "max_iter": 2000}),
    ("poly", {"power": 1.0}),  # max_iter -1 reads as 2**64 - 1, as Caffe2's uint64
    ("linearWarmup", {"start_multiplier": 0.1, "num_iter": 50}),
    ("linearWarmup", {}),
    ("constantWarmup", {"multiplier": 0.2, "num_iter": 10}),
    ("pieceWarmup", {"m1": 0.1, "n1": 5, "m2": 0.6, "n2": 100, "m3": 1.0}),
    ("gate", {"multiplier_1": 2.0, "multiplier_2": 0.3, "num_iter": 99}),
    ("hill", {"num_iter": 10, "start_multiplier": 0.2, "gamma": 0.1, "power": 0.5,
              "end_multiplier": 0.3}),
    ("alter", {"active_period": 3, "inactive_period": 2}),
    ("alter", {"active_period": 3, "inactive_period": 2, "active_first": False}),
]


@pytest.mark.parametrize("policy, args", CASES)
@pytest.mark.parametrize("it", [0, 1, 4, 5, 9, 10, 11, 99, 100, 1000, 123456])
def test_policies_match_their_formulas(policy, args, it):
    op = CreateOperator("LearningRate", ["ITER"], ["LR"], base_lr=-0.05, policy=policy, **args)
    want = np.array(-0.05 * naive_multiplier(it, policy, dict(args)), np.float32)
    testing.check_reference(op, [np.array([it], np.int64)], lambda _: [want],
                            atol=1e-9, rtol=2e-6)


def test_output_is_a_float_scalar_and_exact_for_powers_of_two():
    op = CreateOperator("LearningRate", ["ITER"], ["LR"], base_lr=-0.1, policy="step",
                        stepsize=10, gamma=0.5)
    got = testing.check_reference(op, [np.array([25], np.int64)],
                                  lambda _: [np.array(np.float32(-0.1) * np.float32(0.25))],
                                  atol=0, rtol=0)[0]
    assert got.shape == () and got.dtype == np.float32


def test_iteration_is_the_first_element_of_the_counter():
    op = CreateOperator("LearningRate", ["ITER"], ["LR"], base_lr=1.0, policy="exp", gamma=0.5)
    for it in (np.array(3, np.int64), np.array([[3]], np.int64)):
        testing.check_reference(op, [it], lambda _: [np.array(0.125, np.float32)], atol=0)


@pytest.mark.parametrize("kwargs, inputs, error, match", [
    ({"policy": "fixed"}, [np.zeros(1, np.int64)], ArgumentError,
     r"Argument 'base_lr' is required for Operator 'LearningRate'\."),
    ({"base_lr": 0.1}, [np.zeros(1, np.int64)], ArgumentError,
     r"Argument 'policy' is required for Operator 'LearningRate'\."),
    ({"base_lr": 0.1, "policy": "stepp"}, [np.zeros(1, np.int64)], ArgumentError,
     r"^op LearningRate: Unknown learning rate policy \(argument 'policy': expected one of "
     r"fixed, step, .*found stepp\)"),
    ({"base_lr": 0.1, "policy": "fixed"}, [np.zeros(1, np.int32)], DTypeError,
     "caller expects elements to be long while tensor contains int"),
    ({"base_lr": 0.1, "policy": "fixed"}, [np.zeros(0, np.int64)], EnforceError,
     "the iteration counter is empty"),
    ({"base_lr": 0.1, "policy": "step", "gamma": 0.5}, [np.zeros(1, np.int64)], EnforceError,
     r"Check failed: stepsize > 0 \(0 vs\. 0\)"),
    ({"base_lr": 0.1, "policy": "alter", "active_period": 0, "inactive_period": 0},
     [np.zeros(1, np.int64)], EnforceError, "active_period \\+ inactive_period != 0"),
    ({"base_lr": 1, "policy": "step", "stepsize": 1.5}, [np.zeros(1, np.int64)],
     ArgumentError, "Argument stepsize does not have the right field: expected field i"),
])
def test_errors(kwargs, inputs, error, match):
    testing.check_raises(CreateOperator("LearningRate", ["ITER"], ["LR"], **kwargs), inputs,
                         error, match)


def test_no_gradient():
    assert GRADIENTS["LearningRate"].kind == NO_GRADIENT
