"""LearningRate: lr = base_lr * policy(iter), in float as Caffe2 computes it.

Caffe2's optimizers pass a negative ``base_lr`` (for example ``-0.1``) and update
parameters with ``WeightedSum([param, ONE, grad, LR], [param])``, so the learning
rate blob is negative during training.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np

from caffe2lite.errors import ArgumentError
from caffe2lite.io.arguments import argument_value
from caffe2lite.schema.checks import check_dtype, enforce
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import REQUIRED, Arg
from caffe2lite.schema.registry import lookup, no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

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
    enforce(
        value > 0,
        f"Check failed: {name} > 0 ({value} vs. 0)",
        arg=name,
        expected=f"{name} > 0",
        found=value,
    )


def _linear_warmup(it: int, start: float, num_iter: int) -> F:
    if it >= num_iter:
        return F(1.0)
    # ``1.`` is a double literal in Caffe2, so this part is computed in double.
    s = np.float64(F(start))
    return F(s + (1.0 - s) * np.float64(F(it)) / np.float64(F(num_iter % _UINT64)))


def _inv(it: int, gamma: float, power: float) -> F:
    return F(F(1.0) + F(gamma) * F(it)) ** -F(power)


def _constant_then_linear(it: int, start: float, n_const: int, n_linear: int) -> F:
    """constantThenLinearWarmup: start until n_const, then a linear warmup from start
    over n_linear iterations (counted from n_const), then 1."""
    if it < n_const:
        return F(start)  # the constant warmup's multiplier (it < its num_iter)
    if it < n_const + n_linear:
        return _linear_warmup(it - n_const, start, n_linear)
    return F(1.0)


def _cyclical(
    it: int,
    base_lr: float,
    max_lr: float,
    stepsize: int,
    decay: float,
    name: str = "stepsize",
) -> F:
    """Caffe2's CyclicalLearningRate (float, with std::pow(float, int) in double)."""
    _positive(stepsize, name)
    cycles = _c_div(it, 2 * stepsize)
    x = abs(F(F(it) / F(stepsize)) - F(2 * (cycles + 1)) + F(1))
    ratio = F(F(abs(F(max_lr))) / F(abs(F(base_lr)))) - F(1)
    head = np.float64(F(ratio * max(F(0.0), F(F(1) - x))))
    return F(1.0 + head * np.float64(F(decay)) ** cycles)


def _cosine(
    it: int, min_lr: float, max_lr: float, period: int, t_mult: float, lr_shrink: float
) -> F:
    """Caffe2's CosineLearningRate: restarts every period (growing by t_mult), both
    bounds shrunk by lr_shrink at every restart; double math rounded to float where
    Caffe2 stored a float."""
    tm, p = np.float64(F(t_mult)), np.float64(period)
    if F(t_mult) != F(1.0):
        i = F(np.floor(np.log(1 - it / p * (1.0 - tm)) / np.log(tm)))
        t_i = F(tm ** np.float64(i) * p)
        t_curr = F(it - (1.0 - tm ** np.float64(i)) / (1.0 - tm) * p)
    else:
        i = F(np.floor(it / p))
        t_i = F(period)
        t_curr = F(F(it) - t_i * i)
    shrink = F(F(lr_shrink) ** i)
    lo, hi = F(F(min_lr) * shrink), F(F(max_lr) * shrink)
    cos = np.cos(np.pi * np.float64(t_curr) / np.float64(t_i))
    return F(np.float64(lo) + 0.5 * np.float64(F(hi - lo)) * (1 + cos))


def _slope(it: int, n1: int, m1: float, n2: int, m2: float) -> F:
    """Caffe2's SlopeLearningRate: m1 until n1, then a straight line from m1 at n1 to
    m2 at n2, held at m2 (max with m2) afterwards."""
    if it < n1:
        return F(m1)
    n2 = int(F(n2))  # Caffe2 passed num_iter_2 through a float parameter
    return max(F(m2), F(F(m1) + F(it - n1) * F(F(m2) - F(m1)) / F(n2 - n1)))


def _policy(it: int, p: str, get: Callable[[str, Any], Any], base_lr: float) -> F:
    """The multiplier of ``policy`` at ``it``; ``get(name, default)`` reads an argument
    (prefixed for a composite's sub-policy) with Caffe2's default for this policy."""
    if p == "fixed":
        return F(1.0)
    if p == "step":
        stepsize = get("stepsize", 0)
        _positive(stepsize, "stepsize")
        return F(get("gamma", 0.0)) ** F(_c_div(it, stepsize))
    if p == "exp":
        return F(get("gamma", 0.0)) ** F(it)
    if p == "inv":
        return _inv(it, get("gamma", 0.0), get("power", 0.0))
    if p == "poly":
        return (F(1.0) - F(it) / F(get("max_iter", -1) % _UINT64)) ** F(
            get("power", 0.0)
        )
    if p == "linearWarmup":
        return _linear_warmup(it, get("start_multiplier", 0.0), get("num_iter", 0))
    if p == "constantWarmup":
        return F(1.0) if it >= get("num_iter", 0) else F(get("multiplier", 0.5))
    if p == "pieceWarmup":
        if it < get("n1", 0):
            return F(get("m1", 0.5))
        return F(get("m2", 0.5)) if it < get("n2", 0) else F(get("m3", 0.5))
    if p == "gate":
        if it >= get("num_iter", 0):
            return F(get("multiplier_2", 1.0))
        return F(get("multiplier_1", 1.0))
    if p == "hill":
        num_iter = get("num_iter", 0)
        if it < num_iter:
            return _linear_warmup(it, get("start_multiplier", 0.0), num_iter)
        inv = _inv(it - num_iter, get("gamma", 0.0), get("power", 0.0))
        return max(F(get("end_multiplier", 0.0)), inv)
    if p == "slope":
        return _slope(
            it,
            get("num_iter_1", 0),
            get("multiplier_1", 0.0),
            get("num_iter_2", 0),
            get("multiplier_2", 0.0),
        )
    if p == "cyclical":
        return _cyclical(
            it, base_lr, get("max_lr", 0.005), get("stepsize", 0), get("decay", 1.0)
        )
    if p == "cosine":
        return _cosine(
            it,
            get("min_lr", 0.1),
            get("max_lr", 0.5),
            get("period", 50),
            get("t_mult", 1.0),
            get("lr_shrink", 0.99),
        )
    warm = (
        get("start_warmup_multiplier", 0.1),
        get("constant_warmup_num_iter", _WARM),
        get("linear_warmup_num_iter", _WARM),
    )
    if p == "constantThenLinearWarmup":
        return _constant_then_linear(it, *warm)
    if p in ("compositeCosine", "compositeCyclical"):
        if it < warm[1] + warm[2]:
            return _constant_then_linear(it, *warm)
        rest = it - warm[1] - warm[2]
        if p == "compositeCyclical":
            return _cyclical(
                rest,
                base_lr,
                get("cyclical_max_lr", 0.05),
                get("cyclical_step_size", 1000000),
                get("cyclical_decay", 1.0),
                "cyclical_step_size",
            )
        return _cosine(
            rest,
            get("cosine_min_lr", 0.1),
            get("cosine_max_lr", 0.5),
            get("cosine_period", 50),
            get("cosine_t_mult", 1.0),
            get("cosine_lr_shrink", 0.99),
        )
    # alter
    on, off = get("active_period", -1), get("inactive_period", -1)
    period = on + off
    enforce(
        period != 0,
        "Check failed: active_period + inactive_period != 0",
        arg="active_period",
        expected="a non-zero period",
        found=period,
    )
    first = get("active_first", True)
    inside = _c_mod(it, period) < (on if first else off)
    return F(1.0) if inside == first else F(0.0)


_WARM = 10000000  # constant_warmup_num_iter / linear_warmup_num_iter default

# Every argument a (sub-)policy reads and its kind: int arguments must be stored as
# ints; a float argument may be stored as an int.
_KINDS: dict[str, type] = {
    "stepsize": int,
    "gamma": float,
    "power": float,
    "max_iter": int,
    "num_iter": int,
    "start_multiplier": float,
    "end_multiplier": float,
    "multiplier": float,
    "multiplier_1": float,
    "multiplier_2": float,
    "m1": float,
    "n1": int,
    "m2": float,
    "n2": int,
    "m3": float,
    "active_first": bool,
    "active_period": int,
    "inactive_period": int,
    "num_iter_1": int,
    "num_iter_2": int,
    "max_lr": float,
    "decay": float,
    "min_lr": float,
    "period": int,
    "t_mult": float,
    "lr_shrink": float,
    "start_warmup_multiplier": float,
    "constant_warmup_num_iter": int,
    "linear_warmup_num_iter": int,
    "cyclical_max_lr": float,
    "cyclical_step_size": int,
    "cyclical_decay": float,
    "cosine_max_lr": float,
    "cosine_min_lr": float,
    "cosine_period": int,
    "cosine_t_mult": float,
    "cosine_lr_shrink": float,
    "lr_scale": float,
    "policy": str,
}


def _sub_policy_reader(op_def: Any, prefix: str) -> Callable[[str, Any], Any]:
    """``get(name, default)`` over the OperatorDef's ``prefix + name`` arguments."""
    values = {a.name: a for a in op_def.arg} if op_def is not None else {}

    def get(name: str, default: Any) -> Any:
        arg = values.get(prefix + name)
        if arg is None:
            return default
        kind = _KINDS.get(name, str)
        if kind is float and (arg.HasField("f") or arg.HasField("i")):
            return float(arg.f if arg.HasField("f") else arg.i)
        if kind in (int, bool) and arg.HasField("i"):
            return kind(arg.i)
        if kind is str and arg.HasField("s"):
            return arg.s.decode("utf-8")
        field = {float: "f", int: "i", bool: "i", str: "s"}[kind]
        raise ArgumentError(
            f"Argument {prefix + name} does not have the right field: "
            f"expected field {field}",
            arg=prefix + name,
            expected=f"field {field}",
            found=repr(argument_value(arg)),
        )

    return get


def _composite(it: int, nums: list[int], op_def: Any, base_lr: float) -> F:
    """Caffe2's CompositeLearningRate: sub-policy i (arguments prefixed
    ``sub_policy_<i>_``) covers sub_policy_num_iters[i] iterations, the first starting
    at iteration 1; it sees the global iteration, and its value is scaled by its
    ``lr_scale`` (default 1). The last one continues past the end."""
    enforce(
        len(nums) > 0,
        f"sub_policy_num_iters.size() > 0. {len(nums)} vs 0. Must "
        "specify at least one sub learning rate policy.",
        arg="sub_policy_num_iters",
        expected="at least one sub-policy",
        found=nums,
    )
    starts, start = [], 1
    for i, n in enumerate(nums):
        enforce(
            n > 0,
            f"sub_policy_num_iters[i] > 0. {n} vs 0. The number of iterations "
            "for sub learning rate policy should be positive.",
            arg="sub_policy_num_iters",
            expected="positive counts",
            found=nums,
        )
        get = _sub_policy_reader(op_def, f"sub_policy_{i}_")
        sub = get("policy", "")
        if sub == "composite":
            raise ArgumentError(
                "Defining composite LR policy as a subpolicy of composite "
                "LR policy is not allowed.",
                arg=f"sub_policy_{i}_policy",
                expected="a non-composite policy",
                found=sub,
            )
        if sub not in POLICIES:
            raise ArgumentError(
                f"Unknown learning rate policy: {sub}",
                arg=f"sub_policy_{i}_policy",
                expected=f"one of {_NAMES}",
                found=sub,
            )
        starts.append((start, sub, F(get("lr_scale", 1.0)), get))
        start += n
    # Caffe2 looked the iteration up below the first start (iteration 0 or less): that
    # was undefined behaviour; here it is an error.
    enforce(
        it >= 1,
        f"composite learning rate policy: iteration {it} is before the first "
        "sub-policy, which starts at iteration 1",
        blob="input",
        expected="iter >= 1",
        found=it,
    )
    _, sub, scale, get = [entry for entry in starts if entry[0] <= it][-1]
    return F(_policy(it, sub, get, base_lr) * scale)


POLICIES = (
    "fixed",
    "step",
    "exp",
    "inv",
    "poly",
    "linearWarmup",
    "constantWarmup",
    "pieceWarmup",
    "gate",
    "hill",
    "alter",
    "slope",
    "composite",
    "cyclical",
    "constantThenLinearWarmup",
    "compositeCyclical",
    "cosine",
    "compositeCosine",
)
_NAMES = ", ".join(POLICIES)


def _lr_shape(it: TensorShape) -> tuple[TensorShape]:
    """A 0-d float32 tensor (the learning rate)."""
    return (TensorShape((), np.float32),)


@register_cpu_operator(
    "LearningRate",
    inputs=["input"],
    outputs=["output"],
    args=[
        Arg("base_lr", float, REQUIRED, doc="base learning rate (negative to descend)"),
        Arg(
            "policy",
            str,
            REQUIRED,
            check=lambda p: p in POLICIES,
            check_message="Unknown learning rate policy",
            expected=f"one of {_NAMES}",
        ),
        Arg("stepsize", int, 0),
        Arg("gamma", float, 0.0),
        Arg("power", float, 0.0),
        Arg("max_iter", int, -1),
        Arg("num_iter", int, 0),
        Arg("start_multiplier", float, 0.0),
        Arg("end_multiplier", float, 0.0),
        Arg("multiplier", float, 0.5),
        Arg("multiplier_1", float, None, doc="gate: default 1; slope: default 0"),
        Arg("multiplier_2", float, None, doc="gate: default 1; slope: default 0"),
        Arg("m1", float, 0.5),
        Arg("n1", int, 0),
        Arg("m2", float, 0.5),
        Arg("n2", int, 0),
        Arg("m3", float, 0.5),
        Arg("active_first", bool, True),
        Arg("active_period", int, -1),
        Arg("inactive_period", int, -1),
        Arg("num_iter_1", int, 0),
        Arg("num_iter_2", int, 0),
        Arg("max_lr", float, None, doc="cyclical: default 0.005; cosine: default 0.5"),
        Arg("decay", float, 1.0),
        Arg("min_lr", float, 0.1),
        Arg("period", int, 50),
        Arg("t_mult", float, 1.0),
        Arg("lr_shrink", float, 0.99),
        Arg("start_warmup_multiplier", float, 0.1),
        Arg("constant_warmup_num_iter", int, _WARM),
        Arg("linear_warmup_num_iter", int, _WARM),
        Arg("cyclical_max_lr", float, 0.05),
        Arg("cyclical_step_size", int, 1000000),
        Arg("cyclical_decay", float, 1.0),
        Arg("cosine_max_lr", float, 0.5),
        Arg("cosine_min_lr", float, 0.1),
        Arg("cosine_period", int, 50),
        Arg("cosine_t_mult", float, 1.0),
        Arg("cosine_lr_shrink", float, 0.99),
        Arg(
            "sub_policy_num_iters",
            "ints",
            [],
            doc="composite: iterations of each sub-policy; sub-policy i reads its "
            "policy and arguments as sub_policy_<i>_<name>, and sub_policy_<i>_lr_scale",
        ),
    ],
    shape=_lr_shape,
    example=Example(
        {"input": np.array([25], np.int64)},
        {"output": np.array(-0.025, np.float32)},
        {"base_lr": -0.1, "policy": "step", "stepsize": 10, "gamma": 0.5},
    ),
    doc="""The learning rate for iteration ITER (input: a 1-element int64 tensor, read
as its first element): a 0-d float tensor base_lr * f(iter), f chosen by ``policy``:
fixed (1); step (gamma ** (iter / stepsize), integer division); exp (gamma ** iter);
inv ((1 + gamma * iter) ** -power); poly ((1 - iter / max_iter) ** power);
linearWarmup (start_multiplier + (1 - start_multiplier) * iter / num_iter, then 1);
constantWarmup (multiplier, then 1 from num_iter); pieceWarmup (m1 / m2 / m3 split at
n1 and n2); gate (multiplier_1, then multiplier_2 from num_iter); hill (linearWarmup
for num_iter iterations, then max(end_multiplier, inv(iter - num_iter))); alter (1 for
active_period iterations, then 0 for inactive_period, or the reverse without
active_first); slope (multiplier_1 until num_iter_1, then linear to multiplier_2 at
num_iter_2, then multiplier_2); cyclical (1 + (|max_lr| / |base_lr| - 1) * max(0, 1 -
x) * decay ** cycle, a triangle of period 2 * stepsize); cosine (min_lr + (max_lr -
min_lr) * (1 + cos(pi * t / T)) / 2, restarting every period, the period times t_mult
and both bounds times lr_shrink at each restart); constantThenLinearWarmup
(start_warmup_multiplier for constant_warmup_num_iter iterations, then a linear
warmup from it over linear_warmup_num_iter, then 1); compositeCyclical and
compositeCosine (that warmup, then cyclical / cosine with their cyclical_* / cosine_*
arguments, counted from its end); composite (sub-policies one after the other, sub-
policy i for sub_policy_num_iters[i] iterations starting at iteration 1, its
arguments prefixed sub_policy_<i>_ and its value times sub_policy_<i>_lr_scale).
Argument names and defaults are Caffe2's (gamma 0, power 0, stepsize 0, max_iter -1,
num_iter 0, multiplier 0.5, multiplier_1/2 1 for gate and 0 for slope, max_lr 0.005
for cyclical and 0.5 for cosine, ...). Caffe2 only DCHECKed argument ranges; a zero
stepsize (a division by zero there), an empty alter period and a composite iteration
before 1 (undefined there) are errors here. Training nets use a negative base_lr.

Example: input=[25], base_lr=-0.1, policy="step", stepsize=10, gamma=0.5
-> output=-0.025""",
)
def learning_rate(
    it: np.ndarray,
    *,
    base_lr: float,
    policy: str,
    op_def: Any = None,
    **args: Any,
) -> tuple[np.ndarray]:
    """``base_lr * policy(iter)`` as a 0-d float32 array."""
    check_dtype(it, "input", np.int64)
    enforce(
        it.size >= 1,
        "the iteration counter is empty",
        blob="input",
        expected="a 1-element int64 tensor",
        found=f"shape {it.shape}",
    )
    step = int(it.reshape(-1)[0])

    def get(name: str, default: Any) -> Any:
        value = args.get(name)
        return default if value is None else value

    with np.errstate(
        all="ignore"
    ):  # inf / nan follow C's float arithmetic, no warnings
        if policy == "composite":
            factor = _composite(
                step, list(args["sub_policy_num_iters"]), op_def, base_lr
            )
        else:
            factor = _policy(step, policy, get, base_lr)
        return (np.array(F(base_lr) * F(factor), dtype=np.float32),)


no_gradient("LearningRate")


# The composite policies read each sub-policy's arguments from the OperatorDef as
# ``sub_policy_<i>_<name>`` (Caffe2's argument prefix), so their names cannot be
# declared one by one in the schema. Without this they were reported as undeclared
# (an UnknownArgumentWarning per argument, and a refused net in strict mode) although
# the op reads them. The schema's undeclared-argument check is narrowed here for this
# op only: a sub-policy argument of a known name is declared; anything else (a typo
# such as sub_policy_0_gama, or no index) is still reported.
_SUB_POLICY_ARG = re.compile(r"sub_policy_(\d+)_(.+)")


def _is_sub_policy_arg(name: str) -> bool:
    match = _SUB_POLICY_ARG.fullmatch(name)
    return match is not None and match.group(2) in _KINDS


def _narrow_unknown_args(schema: Any) -> None:
    undeclared = schema.unknown_args

    def unknown_args(op: Any) -> list[str]:
        return [name for name in undeclared(op) if not _is_sub_policy_arg(name)]

    schema.unknown_args = unknown_args


_narrow_unknown_args(lookup("LearningRate"))
