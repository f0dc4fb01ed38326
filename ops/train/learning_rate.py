"""LearningRate: lr = base_lr * policy(iter), in float as Caffe2 computes it.

Caffe2's optimizers pass a negative ``base_lr`` (for example ``-0.1``) and update
parameters with ``WeightedSum([param, ONE, grad, LR], [param])``, so the learning
rate blob is negative during training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.schema.checks import check_dtype, enforce
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.opschema import REQUIRED, Arg

F = np.float32
_UINT64 = 2**64


def _c_div(a: int, b: int) -> int:
    """C++ integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _c_mod(a: int, b: int) -> int:
    """C++ ``%`` (the result takes the sign of ``a``)."""
    return a - _c_div(a, b) * b


def _positive(value: int, name: str) -> None:
    # Caffe2 only DCHECKs these; in a release build a zero divides by zero and crashes.
    enforce(value > 0, f"Check failed: {name} > 0 ({value} vs. 0)", arg=name,
            expected=f"{name} > 0", found=value)


def _linear_warmup(it: int, start: float, num_iter: int) -> F:
    if it >= num_iter:
        return F(1.0)
    # ``1.`` is a double literal in Caffe2, so this part is computed in double.
    s = np.float64(F(start))
    return F(s + (1.0 - s) * np.float64(F(it)) / np.float64(F(num_iter % _UINT64)))


def _inv(it: int, gamma: float, power: float) -> F:
    return F(F(1.0) + F(gamma) * F(it)) ** -F(power)


def _policy(it: int, a: dict[str, Any]) -> F:
    p = a["policy"]
    if p == "fixed":
        return F(1.0)
    if p == "step":
        _positive(a["stepsize"], "stepsize")
        return F(a["gamma"]) ** F(_c_div(it, a["stepsize"]))
    if p == "exp":
        return F(a["gamma"]) ** F(it)
    if p == "inv":
        return _inv(it, a["gamma"], a["power"])
    if p == "poly":
        return (F(1.0) - F(it) / F(a["max_iter"] % _UINT64)) ** F(a["power"])
    if p == "linearWarmup":
        return _linear_warmup(it, a["start_multiplier"], a["num_iter"])
    if p == "constantWarmup":
        return F(1.0) if it >= a["num_iter"] else F(a["multiplier"])
    if p == "pieceWarmup":
        return F(a["m1"]) if it < a["n1"] else F(a["m2"]) if it < a["n2"] else F(a["m3"])
    if p == "gate":
        return F(a["multiplier_2"]) if it >= a["num_iter"] else F(a["multiplier_1"])
    if p == "hill":
        if it < a["num_iter"]:
            return _linear_warmup(it, a["start_multiplier"], a["num_iter"])
        inv = _inv(it - a["num_iter"], a["gamma"], a["power"])
        return max(F(a["end_multiplier"]), inv)
    # alter
    period = a["active_period"] + a["inactive_period"]
    enforce(period != 0, "Check failed: active_period + inactive_period != 0",
            arg="active_period", expected="a non-zero period", found=period)
    first = a["active_first"]
    inside = _c_mod(it, period) < (a["active_period"] if first else a["inactive_period"])
    return F(1.0) if inside == first else F(0.0)


POLICIES = ("fixed", "step", "exp", "inv", "poly", "linearWarmup", "constantWarmup",
            "pieceWarmup", "gate", "hill", "alter")
_NAMES = ", ".join(POLICIES)


@register_cpu_operator(
    "LearningRate",
    inputs=["input"],
    outputs=["output"],
    args=[
        Arg("base_lr", float, REQUIRED, doc="base learning rate (negative to descend)"),
        Arg("policy", str, REQUIRED, check=lambda p: p in POLICIES,
            check_message="Unknown learning rate policy", expected=f"one of {_NAMES}"),
        Arg("stepsize", int, 0), Arg("gamma", float, 0.0), Arg("power", float, 0.0),
        Arg("max_iter", int, -1), Arg("num_iter", int, 0),
        Arg("start_multiplier", float, 0.0), Arg("end_multiplier", float, 0.0),
        Arg("multiplier", float, 0.5), Arg("multiplier_1", float, 1.0),
        Arg("multiplier_2", float, 1.0), Arg("m1", float, 0.5), Arg("n1", int, 0),
        Arg("m2", float, 0.5), Arg("n2", int, 0), Arg("m3", float, 0.5),
        Arg("active_first", bool, True), Arg("active_period", int, -1),
        Arg("inactive_period", int, -1),
    ],
    doc="""The learning rate for iteration ITER (input: a 1-element int64 tensor, read
as its first element): a 0-d float tensor base_lr * f(iter), f chosen by ``policy``:
fixed (1); step (gamma ** (iter / stepsize), integer division); exp (gamma ** iter);
inv ((1 + gamma * iter) ** -power); poly ((1 - iter / max_iter) ** power);
linearWarmup (start_multiplier + (1 - start_multiplier) * iter / num_iter, then 1);
constantWarmup (multiplier, then 1 from num_iter); pieceWarmup (m1 / m2 / m3 split at
n1 and n2); gate (multiplier_1, then multiplier_2 from num_iter); hill (linearWarmup
for num_iter iterations, then max(end_multiplier, inv(iter - num_iter))); alter (1 for
active_period iterations, then 0 for inactive_period, or the reverse without
active_first). Argument defaults are Caffe2's (gamma 0, power 0, stepsize 0, max_iter
-1, num_iter 0, multiplier 0.5, ...). Training nets use a negative base_lr.

Example: input=[25], base_lr=-0.1, policy="step", stepsize=10, gamma=0.5
-> output=-0.025""",
)
def learning_rate(
    it: np.ndarray, *, base_lr: float, policy: str, stepsize: int, gamma: float,
    power: float, max_iter: int, num_iter: int, start_multiplier: float,
    end_multiplier: float, multiplier: float, multiplier_1: float, multiplier_2: float,
    m1: float, n1: int, m2: float, n2: int, m3: float, active_first: bool,
    active_period: int, inactive_period: int,
) -> tuple[np.ndarray]:
    """``base_lr * policy(iter)`` as a 0-d float32 array."""
    check_dtype(it, "input", np.int64)
    enforce(it.size >= 1, "the iteration counter is empty", blob="input",
            expected="a 1-element int64 tensor", found=f"shape {it.shape}")
    args = dict(locals())
    with np.errstate(all="ignore"):  # inf / nan follow C's float arithmetic, no warnings
        factor = _policy(int(it.reshape(-1)[0]), args)
        return (np.array(F(base_lr) * F(factor), dtype=np.float32),)


no_gradient("LearningRate")
