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
    if policy == "slope":
        n1, n2 = get("num_iter_1", 0), get("num_iter_2", 0)
        m1, m2 = get("multiplier_1", 0.0), get("multiplier_2", 0.0)
        return m1 if it < n1 else max(m2, m1 + (it - n1) * (m2 - m1) / (n2 - n1))
    if policy == "cyclical":
        return naive_cyclical(
            it,
            a["base_lr"],
            get("max_lr", 0.005),
            get("stepsize", 0),
            get("decay", 1.0),
        )
    if policy == "cosine":
        return naive_cosine(
            it,
            get("min_lr", 0.1),
            get("max_lr", 0.5),
            get("period", 50),
            get("t_mult", 1.0),
            get("lr_shrink", 0.99),
        )
    if policy in ("constantThenLinearWarmup", "compositeCosine", "compositeCyclical"):
        start = get("start_warmup_multiplier", 0.1)
        n_c = get("constant_warmup_num_iter", 10**7)
        n_l = get("linear_warmup_num_iter", 10**7)
        if it < n_c:
            return start
        if it < n_c + n_l:
            return start + (1 - start) * (it - n_c) / n_l
        if policy == "constantThenLinearWarmup":
            return 1.0
        rest = it - n_c - n_l
        if policy == "compositeCyclical":
            return naive_cyclical(
                rest,
                a["base_lr"],
                get("cyclical_max_lr", 0.05),
                get("cyclical_step_size", 10**6),
                get("cyclical_decay", 1.0),
            )
        return naive_cosine(
            rest,
            get("cosine_min_lr", 0.1),
            get("cosine_max_lr", 0.5),
            get("cosine_period", 50),
            get("cosine_t_mult", 1.0),
            get("cosine_lr_shrink", 0.99),
        )
    assert policy == "alter"
    on, off = get("active_period", -1), get("inactive_period", -1)
    first = get("active_first", True)
    in_first_part = it % (on + off) < (on if first else off)
    return 1.0 if in_first_part == first else 0.0


def naive_cyclical(it, base_lr, max_lr, stepsize, decay):
    """The triangular schedule of Smith (2015): up for stepsize iterations, down for
    stepsize, the amplitude times decay after each full cycle."""
    cycle = it // (2 * stepsize)
    # Caffe2 divided in float (static_cast<float>(iter) / stepsize): that rounding
    # dominates for large iterations, so the reference rounds there too
    pos = float(np.float32(it) / np.float32(stepsize)) - 2 * cycle  # in [0, 2)
    tri = 1 - abs(pos - 1)
    base_lr = float(np.float32(base_lr))
    return 1 + (abs(max_lr) / abs(base_lr) - 1) * max(0.0, tri) * decay**cycle


def naive_cosine(it, lo, hi, period, t_mult, shrink):
    """SGDR (Loshchilov & Hutter): walk the restarts one by one."""
    start, length, k = 0.0, float(period), 0
    while it >= start + length:
        start += length
        length *= t_mult
        k += 1
    scale = shrink**k
    t = (it - start) / length
    return lo * scale + 0.5 * (hi - lo) * scale * (1 + math.cos(math.pi * t))


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
    (
        "hill",
        {
            "num_iter": 10,
            "start_multiplier": 0.2,
            "gamma": 0.1,
            "power": 0.5,
            "end_multiplier": 0.3,
        },
    ),
    ("alter", {"active_period": 3, "inactive_period": 2}),
    ("alter", {"active_period": 3, "inactive_period": 2, "active_first": False}),
    (
        "slope",
        {"num_iter_1": 10, "multiplier_1": 1.0, "num_iter_2": 110, "multiplier_2": 0.5},
    ),
    ("cyclical", {"max_lr": 0.2, "stepsize": 7}),
    ("cyclical", {"max_lr": 0.2, "stepsize": 7, "decay": 0.9}),
    ("cosine", {}),
    ("cosine", {"min_lr": 0.01, "max_lr": 1.0, "period": 8, "lr_shrink": 0.5}),
    ("cosine", {"min_lr": 0.01, "max_lr": 1.0, "period": 8, "t_mult": 2.0}),
    (
        "constantThenLinearWarmup",
        {
            "start_warmup_multiplier": 0.25,
            "constant_warmup_num_iter": 5,
            "linear_warmup_num_iter": 20,
        },
    ),
    ("constantThenLinearWarmup", {}),
    (
        "compositeCosine",
        {
            "start_warmup_multiplier": 0.2,
            "constant_warmup_num_iter": 4,
            "linear_warmup_num_iter": 6,
            "cosine_period": 30,
            "cosine_max_lr": 0.9,
            "cosine_min_lr": 0.05,
        },
    ),
    (
        "compositeCyclical",
        {
            "start_warmup_multiplier": 0.2,
            "constant_warmup_num_iter": 4,
            "linear_warmup_num_iter": 6,
            "cyclical_max_lr": 0.5,
            "cyclical_step_size": 9,
            "cyclical_decay": 0.8,
        },
    ),
]


@pytest.mark.parametrize("policy, args", CASES)
@pytest.mark.parametrize("it", [0, 1, 4, 5, 9, 10, 11, 99, 100, 1000, 123456])
def test_policies_match_their_formulas(policy, args, it):
    op = CreateOperator(
        "LearningRate", ["ITER"], ["LR"], base_lr=-0.05, policy=policy, **args
    )
    want = np.array(
        -0.05 * naive_multiplier(it, policy, dict(args, base_lr=-0.05)), np.float32
    )
    rtol = 2e-5 if "yclical" in policy else 2e-6  # float steps after the division
    testing.check_reference(
        op, [np.array([it], np.int64)], lambda _: [want], atol=1e-9, rtol=rtol
    )


def test_output_is_a_float_scalar_and_exact_for_powers_of_two():
    op = CreateOperator(
        "LearningRate",
        ["ITER"],
        ["LR"],
        base_lr=-0.1,
        policy="step",
        stepsize=10,
        gamma=0.5,
    )
    got = testing.check_reference(
        op,
        [np.array([25], np.int64)],
        lambda _: [np.array(np.float32(-0.1) * np.float32(0.25))],
        atol=0,
        rtol=0,
    )[0]
    assert got.shape == () and got.dtype == np.float32


def test_iteration_is_the_first_element_of_the_counter():
    op = CreateOperator(
        "LearningRate", ["ITER"], ["LR"], base_lr=1.0, policy="exp", gamma=0.5
    )
    for it in (np.array(3, np.int64), np.array([[3]], np.int64)):
        testing.check_reference(
            op, [it], lambda _: [np.array(0.125, np.float32)], atol=0
        )


@pytest.mark.parametrize(
    "kwargs, inputs, error, match",
    [
        (
            {"policy": "fixed"},
            [np.zeros(1, np.int64)],
            ArgumentError,
            r"Argument 'base_lr' is required for Operator 'LearningRate'\.",
        ),
        (
            {"base_lr": 0.1},
            [np.zeros(1, np.int64)],
            ArgumentError,
            r"Argument 'policy' is required for Operator 'LearningRate'\.",
        ),
        (
            {"base_lr": 0.1, "policy": "stepp"},
            [np.zeros(1, np.int64)],
            ArgumentError,
            r"^op LearningRate: Unknown learning rate policy \(argument 'policy': expected one of "
            r"fixed, step, .*found stepp\)",
        ),
        (
            {"base_lr": 0.1, "policy": "fixed"},
            [np.zeros(1, np.int32)],
            DTypeError,
            "caller expects elements to be long while tensor contains int",
        ),
        (
            {"base_lr": 0.1, "policy": "fixed"},
            [np.zeros(0, np.int64)],
            EnforceError,
            "the iteration counter is empty",
        ),
        (
            {"base_lr": 0.1, "policy": "step", "gamma": 0.5},
            [np.zeros(1, np.int64)],
            EnforceError,
            r"Check failed: stepsize > 0 \(0 vs\. 0\)",
        ),
        (
            {
                "base_lr": 0.1,
                "policy": "alter",
                "active_period": 0,
                "inactive_period": 0,
            },
            [np.zeros(1, np.int64)],
            EnforceError,
            "active_period \\+ inactive_period != 0",
        ),
        (
            {"base_lr": 1, "policy": "step", "stepsize": 1.5},
            [np.zeros(1, np.int64)],
            ArgumentError,
            "Argument stepsize does not have the right field: expected field i",
        ),
    ],
)
def test_errors(kwargs, inputs, error, match):
    testing.check_raises(
        CreateOperator("LearningRate", ["ITER"], ["LR"], **kwargs), inputs, error, match
    )


def test_no_gradient():
    assert GRADIENTS["LearningRate"].kind == NO_GRADIENT


# -- Caffe2's learning_rate_op_test cases ---------------------------------------------


def _lr(it, **kwargs):
    from caffe2lite.workspace import Workspace

    ws = Workspace()
    ws.feed_blob("ITER", np.array([it], np.int64))
    ws.run_operator_once(CreateOperator("LearningRate", ["ITER"], ["LR"], **kwargs))
    return ws.fetch_blob("LR")


def test_caffe2_alter_hill_slope_and_gate_cases():
    rng = np.random.default_rng(7)
    for _ in range(20):
        it = int(rng.integers(1, 100000))
        base_lr = float(rng.random())
        on, off = (int(v) for v in rng.integers(1, 1000, 2))
        want = base_lr if it % (on + off) < on else 0.0
        got = _lr(
            it,
            policy="alter",
            active_first=True,
            base_lr=base_lr,
            active_period=on,
            inactive_period=off,
        )
        np.testing.assert_allclose(got, want, rtol=1e-6)
        num_iter = int(rng.integers(100, 10**8))
        if it < num_iter:
            hill = 1e-4 + (1 - 1e-4) * it / num_iter
        else:
            hill = max((1.0 + (it - num_iter)) ** -0.5, 1e-2)
        got = _lr(
            it,
            policy="hill",
            base_lr=base_lr,
            num_iter=num_iter,
            start_multiplier=1e-4,
            gamma=1.0,
            power=0.5,
            end_multiplier=1e-2,
        )
        np.testing.assert_allclose(got, base_lr * hill, rtol=1e-5)
        n1 = int(rng.integers(100, 1000))
        n2 = n1 + int(rng.integers(100, 1000))
        slope = 1.0 if it < n1 else max(1.0 + (it - n1) * (0.5 - 1.0) / (n2 - n1), 0.5)
        got = _lr(
            it,
            policy="slope",
            base_lr=base_lr,
            num_iter_1=n1,
            multiplier_1=1.0,
            num_iter_2=n2,
            multiplier_2=0.5,
        )
        np.testing.assert_allclose(got, base_lr * slope, rtol=1e-5)
        m1, m2, lr = (float(v) for v in rng.uniform(-1, 1, 3))
        got = _lr(
            it,
            policy="gate",
            num_iter=num_iter,
            multiplier_1=m1,
            multiplier_2=m2,
            base_lr=lr,
        )
        np.testing.assert_allclose(got, (m1 if it < num_iter else m2) * lr, rtol=1e-5)


def test_caffe2_composite_cases():
    rng = np.random.default_rng(65535)
    nums = [int(v) for v in rng.integers(10, 50, 4)]
    ends = np.cumsum(nums)
    scales = [float(v) for v in rng.uniform(0.1, 2.0, 4)]
    step_size, step_gamma, exp_gamma = (
        int(rng.integers(2, 5)),
        rng.random(),
        rng.random(),
    )
    one = dict(
        policy="composite",
        sub_policy_num_iters=nums[:1],
        base_lr=0.1,
        sub_policy_0_lr_scale=scales[0],
        sub_policy_0_policy="exp",
        sub_policy_0_gamma=exp_gamma,
    )
    for it in range(1, int(ends[-1]) + 1):
        # one sub-policy: it goes on past its own number of iterations
        np.testing.assert_allclose(
            _lr(it, **one), 0.1 * exp_gamma**it * scales[0], rtol=1e-4, atol=1e-30
        )
    four = dict(
        policy="composite",
        sub_policy_num_iters=nums,
        base_lr=0.1,
        sub_policy_0_policy="exp",
        sub_policy_0_lr_scale=scales[0],
        sub_policy_0_gamma=exp_gamma,
        sub_policy_1_policy="step",
        sub_policy_1_lr_scale=scales[1],
        sub_policy_1_stepsize=step_size,
        sub_policy_1_gamma=step_gamma,
        sub_policy_2_policy="fixed",
        sub_policy_2_lr_scale=scales[2],
        sub_policy_3_policy="exp",
        sub_policy_3_gamma=exp_gamma,
        sub_policy_3_lr_scale=scales[3],
    )
    for it in range(1, int(ends[-1]) + 1):
        k = int(np.searchsorted(ends, it))  # sub-policy k covers (ends[k-1], ends[k]]
        value = [exp_gamma**it, step_gamma ** (it // step_size), 1.0, exp_gamma**it][k]
        np.testing.assert_allclose(
            _lr(it, **four), 0.1 * value * scales[k], rtol=1e-4, atol=1e-30
        )


def test_composite_sub_policies_see_the_global_iteration_and_default_scale():
    kw = dict(
        policy="composite",
        sub_policy_num_iters=[3, 5],
        base_lr=1.0,
        sub_policy_0_policy="fixed",
        sub_policy_1_policy="linearWarmup",
        sub_policy_1_start_multiplier=0.5,
        sub_policy_1_num_iter=8,
    )
    assert [float(_lr(it, **kw)) for it in (1, 3)] == [1.0, 1.0]
    # iteration 4 is the second sub-policy's first, read as 4 of its 8 warmup steps
    np.testing.assert_allclose(_lr(4, **kw), 0.5 + 0.5 * 4 / 8, rtol=1e-6)
    np.testing.assert_allclose(_lr(100, **kw), 1.0)


@pytest.mark.parametrize(
    "kwargs, it, error, match",
    [
        (
            {"sub_policy_num_iters": []},
            1,
            EnforceError,
            "Must specify at least one sub learning rate policy",
        ),
        (
            {
                "sub_policy_num_iters": [2, 0],
                "sub_policy_0_policy": "fixed",
                "sub_policy_1_policy": "fixed",
            },
            1,
            EnforceError,
            "The number of iterations for sub learning rate policy should be positive",
        ),
        (
            {"sub_policy_num_iters": [2], "sub_policy_0_policy": "composite"},
            1,
            ArgumentError,
            "Defining composite LR policy as a subpolicy of composite LR policy is not allowed",
        ),
        (
            {"sub_policy_num_iters": [2]},
            1,
            ArgumentError,
            r"Unknown learning rate policy:  \(argument 'sub_policy_0_policy'",
        ),
        (
            {
                "sub_policy_num_iters": [2],
                "sub_policy_0_policy": "step",
                "sub_policy_0_stepsize": 1.5,
            },
            1,
            ArgumentError,
            "Argument sub_policy_0_stepsize does not have the right field: expected field i",
        ),
        (
            {"sub_policy_num_iters": [2], "sub_policy_0_policy": "fixed"},
            0,
            EnforceError,
            "iteration 0 is before the first sub-policy",
        ),
    ],
)
def test_composite_errors(kwargs, it, error, match):
    op = CreateOperator(
        "LearningRate", ["ITER"], ["LR"], base_lr=0.1, policy="composite", **kwargs
    )
    testing.check_raises(op, [np.array([it], np.int64)], error, match)


def test_cyclical_zero_stepsize_is_an_error():
    op = CreateOperator(
        "LearningRate", ["ITER"], ["LR"], base_lr=0.1, policy="cyclical"
    )
    testing.check_raises(
        op,
        [np.array([3], np.int64)],
        EnforceError,
        r"Check failed: stepsize > 0 \(0 vs\. 0\)",
    )


def test_policy_dependent_defaults():
    # multiplier_1/2 default to 1 for gate and 0 for slope; max_lr 0.005 for cyclical
    # and 0.5 for cosine
    assert float(_lr(5, policy="gate", base_lr=2.0)) == 2.0
    assert (
        float(_lr(5, policy="slope", base_lr=2.0, num_iter_1=10, num_iter_2=20)) == 0.0
    )
    np.testing.assert_allclose(_lr(0, policy="cosine", base_lr=1.0), 0.5)
    np.testing.assert_allclose(
        _lr(3, policy="cyclical", base_lr=0.001, stepsize=6),
        0.001 * (1 + (0.005 / 0.001 - 1) * 0.5),
        rtol=1e-5,
    )


def test_shape_inference():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    op = CreateOperator("LearningRate", ["ITER"], ["LR"], base_lr=0.1, policy="fixed")
    assert infer_op(op, [TensorShape((1,), np.int64)]) == [TensorShape((), np.float32)]


def test_composite_cyclical_zero_step_size_names_its_argument():
    op = CreateOperator(
        "LearningRate",
        ["ITER"],
        ["LR"],
        base_lr=0.1,
        policy="compositeCyclical",
        constant_warmup_num_iter=1,
        linear_warmup_num_iter=1,
        cyclical_step_size=0,
    )
    err = testing.check_raises(
        op,
        [np.array([5], np.int64)],
        EnforceError,
        r"Check failed: cyclical_step_size > 0 \(0 vs\. 0\)",
    )
    assert err.arg == "cyclical_step_size"


def test_composite_sub_policy_arguments_are_declared():
    # Caffe2's learning_rate_op_test builds composite ops whose sub-policies carry
    # sub_policy_<i>_<name> arguments: the op reads them, so creating the net must
    # neither warn about them nor refuse them in strict mode.
    import warnings

    from caffe2lite import workspace
    from caffe2lite.errors import UnknownArgumentWarning

    op = CreateOperator(
        "LearningRate", ["it"], ["lr"], policy="composite", base_lr=0.1,
        sub_policy_num_iters=[2, 3], sub_policy_0_policy="step",
        sub_policy_0_stepsize=1, sub_policy_0_gamma=0.5, sub_policy_0_lr_scale=2.0,
        sub_policy_1_policy="fixed", sub_policy_1_lr_scale=3.0,
    )
    workspace.ResetWorkspace()
    workspace.FeedBlob("it", np.array([2], np.int64))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownArgumentWarning)
        workspace.RunOperatorOnce(op)
    np.testing.assert_allclose(workspace.FetchBlob("lr"), 0.1 * 2.0 * 0.5**2)
    workspace.SetStrict(True)
    try:
        workspace.RunOperatorOnce(op)
    finally:
        workspace.SetStrict(False)
        workspace.ResetWorkspace()


@pytest.mark.parametrize("name", ["sub_policy_0_gama", "sub_policy_x_gamma", "sub_policy_gamma"])
def test_misspelled_sub_policy_arguments_are_still_reported(name):
    from caffe2lite import workspace
    from caffe2lite.errors import UnknownArgumentWarning

    op = CreateOperator(
        "LearningRate", ["it"], ["lr"], policy="composite", base_lr=0.1,
        sub_policy_num_iters=[2], sub_policy_0_policy="fixed", **{name: 0.5},
    )
    workspace.ResetWorkspace()
    workspace.FeedBlob("it", np.array([1], np.int64))
    try:
        with pytest.warns(UnknownArgumentWarning, match=name):
            workspace.RunOperatorOnce(op)
    finally:
        workspace.ResetWorkspace()
