"""Checkers for people who write operators: compare with a reference, expect errors,
check gradients numerically.

Each checker runs the op in a fresh :class:`~caffe2lite.workspace.Workspace`, so it
never touches the global workspace.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import numpy as np

from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime.workspace import Workspace


def _feed(op: caffe2_pb2.OperatorDef, inputs: Sequence[Any]) -> Workspace:
    if len(inputs) != len(op.input):
        raise AssertionError(f"{op.type}: {len(inputs)} inputs given for {len(op.input)} op inputs")
    ws = Workspace()
    for name, value in zip(op.input, inputs):
        ws.feed_blob(name, value)
    return ws


def assert_same(name: str, got: Any, want: Any, atol: float, rtol: float) -> None:
    """Exact for integers, bools, strings; within ``atol + rtol*|want|`` for floats.
    dtypes and shapes must match."""
    if isinstance(want, (bytes, str)):
        if got != want:
            raise AssertionError(f"{name}: got {got!r}, want {want!r}")
        return
    want = np.asarray(want)
    got = np.asarray(got)
    if got.dtype != want.dtype:
        raise AssertionError(f"{name}: dtype {got.dtype}, want {want.dtype}")
    if got.shape != want.shape:
        raise AssertionError(f"{name}: shape {got.shape}, want {want.shape}")
    if want.dtype.kind in "fc":
        close = np.isclose(got, want, atol=atol, rtol=rtol, equal_nan=True)
        if not close.all():
            idx = np.argwhere(~close)[:5]
            worst = ", ".join(f"{tuple(i)}: got {got[tuple(i)]!r} want {want[tuple(i)]!r}"
                              for i in idx)
            raise AssertionError(f"{name}: {int((~close).sum())} of {got.size} entries differ "
                                 f"(atol={atol}, rtol={rtol}); first: {worst}")
    elif not np.array_equal(got, want):
        where: Any = np.argwhere(got != want)[:5] if got.shape else []
        worst = ", ".join(f"{tuple(i)}: got {got[tuple(i)]!r} want {want[tuple(i)]!r}" for i in where)
        raise AssertionError(f"{name}: values differ; first: {worst or (got, want)}")


def check_reference(
    op: caffe2_pb2.OperatorDef,
    inputs: Sequence[Any],
    reference: Callable[..., Sequence[Any]],
    *,
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> list[Any]:
    """Run ``op`` on ``inputs`` and compare every output with ``reference(*inputs)``.

    >>> from caffe2lite.builder.operator import CreateOperator
    >>> op = CreateOperator("Copy", ["X"], ["Y"])
    >>> check_reference(op, [np.array([1, 2])], lambda x: [x])
    [array([1, 2])]
    """
    ws = _feed(op, inputs)
    ws.run_operator_once(op)
    want = list(reference(*inputs))
    if len(want) != len(op.output):
        raise AssertionError(f"{op.type}: reference gave {len(want)} outputs for "
                             f"{len(op.output)} op outputs")
    got = [ws.fetch_blob(name) for name in op.output]
    for name, g, w in zip(op.output, got, want):
        assert_same(f"{op.type} output {name}", g, w, atol, rtol)
    return got


def check_raises(
    op: caffe2_pb2.OperatorDef | caffe2_pb2.NetDef,
    inputs: Sequence[Any] | dict[str, Any],
    error: type[BaseException],
    match: str | None = None,
) -> BaseException:
    """Running ``op`` must raise ``error`` whose message matches the regex ``match``,
    and leave every blob that existed before exactly as it was."""
    run: Callable[[Any], bool]
    if isinstance(op, caffe2_pb2.NetDef):
        ws = Workspace()
        for name, value in dict(inputs).items():
            ws.feed_blob(name, value)
        run = ws.run_net_once
    else:
        ws = _feed(op, inputs if not isinstance(inputs, dict) else list(inputs.values()))
        run = ws.run_operator_once
    before = {n: ws._blobs[n] for n in ws._blobs}
    copies = {n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in before.items()}
    try:
        run(op)
    except error as e:
        if match is not None and not re.search(match, str(e)):
            raise AssertionError(f"{type(e).__name__} message {str(e)!r} does not match "
                                 f"{match!r}") from e
        for name, value in copies.items():
            if name not in ws._blobs:
                raise AssertionError(f"blob {name} vanished after the failing op") from e
            assert_same(f"blob {name} after the failing op", ws._blobs[name], value, 0, 0)
        return e
    raise AssertionError(f"{getattr(op, 'type', 'net')}: expected {error.__name__}, "
                         "nothing was raised")


# -- numeric gradient checks ----------------------------------------------------------

_ELEMENTWISE_LIMIT = 200  # inputs up to this size are checked element by element
_DIRECTIONS = 3  # random directions for larger inputs


def _forward_fn(op: caffe2_pb2.OperatorDef) -> Callable[[list[Any]], tuple]:
    """The op's kernel as a function of its input arrays (a fresh generator per call,
    as RunOperatorOnce gives)."""
    from caffe2lite.runtime.net import compile_op, make_rng, raise_problems

    step, problems = compile_op(op)
    raise_problems(problems, f"op {op.type}")
    assert step is not None
    option = op.device_option if op.HasField("device_option") else None

    def run(arrays: list[Any]) -> tuple:
        kwargs = dict(step.kwargs)
        if step.schema.needs_rng:
            kwargs["rng"] = make_rng(option)
        return step.kernel(*arrays, **kwargs)

    return run


def _dense_gradient(ws: Workspace, grad: Any, x: np.ndarray, label: str) -> np.ndarray:
    from caffe2lite.gradient.backward import GradientSlice

    if isinstance(grad, GradientSlice):
        indices = np.asarray(ws.fetch_blob(str(grad.indices)))
        values = np.asarray(ws.fetch_blob(str(grad.values)), dtype=np.float64)
        want = indices.shape + x.shape[1:]
        if values.shape != want:
            raise AssertionError(
                f"{label}: sparse gradient values have shape {values.shape}, "
                f"want {want} (indices shape + input shape[1:])")
        dense = np.zeros(x.shape, dtype=np.float64)
        np.add.at(dense, indices.reshape(-1).astype(np.int64),
                  values.reshape((indices.size,) + x.shape[1:]))
        return dense
    dense = np.asarray(ws.fetch_blob(str(grad)), dtype=np.float64)
    if dense.shape != x.shape:
        raise AssertionError(f"{label}: gradient blob {grad} has shape {dense.shape}, "
                             f"want the input's shape {x.shape}")
    return dense


def _compare(label: str, analytic: np.ndarray, numeric: np.ndarray, where: list[str],
             atol: float, rtol: float, eps: float) -> None:
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    bad = np.flatnonzero(~(excess <= 0))
    if bad.size == 0:
        return
    worst = bad[np.argsort(-np.nan_to_num(excess[bad], nan=np.inf))][:5]
    lines = ", ".join(f"{where[j]}: analytic {analytic[j]:.8g} numeric {numeric[j]:.8g}"
                      for j in worst)
    raise AssertionError(
        f"{label}: {bad.size} of {analytic.size} checks differ from central "
        f"differences (eps={eps}, atol={atol}, rtol={rtol}); worst: {lines}")


def _numeric(
    loss: Callable[[list[Any]], float],
    arrays: list[Any],
    positions: list[int],
    analytic: np.ndarray,
    eps: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(analytic, central differences, labels) per element for small inputs, along
    random directions for large ones; the input is shifted at every position that
    reads the same blob."""
    x = arrays[positions[0]]

    def at(shift: np.ndarray) -> float:
        args = list(arrays)
        for p in positions:
            args[p] = x + shift
        return loss(args)

    if x.size <= _ELEMENTWISE_LIMIT:
        numeric = np.empty(x.size)
        for j in range(x.size):
            step = np.zeros(x.size)
            step[j] = eps
            step = step.reshape(x.shape)
            numeric[j] = (at(step) - at(-step)) / (2 * eps)
        where = [str(tuple(int(v) for v in np.unravel_index(j, x.shape)))
                 for j in range(x.size)]
        return analytic.reshape(-1), numeric, where
    dirs = rng.standard_normal((_DIRECTIONS, *x.shape))
    numeric = np.array([(at(eps * d) - at(-eps * d)) / (2 * eps) for d in dirs])
    got = np.array([float(np.sum(analytic * d)) for d in dirs])
    return got, numeric, [f"direction {j}" for j in range(_DIRECTIONS)]


def check_gradient(
    op: caffe2_pb2.OperatorDef,
    inputs: Sequence[Any],
    wrt: int | Sequence[int],
    *,
    outputs: Sequence[int] | None = None,
    eps: float = 1e-4,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
) -> dict[int, np.ndarray]:
    """Compare the gradient that the gradient registry builds for ``op`` with central
    differences, for each input index in ``wrt``.

    Float inputs are cast to float64. The loss is ``sum_k <c_k, output_k>`` over the
    ``outputs`` indices (every float output by default) with random cotangents
    ``c_k`` (seeded by ``seed``) fed as ``<output>_grad``. The backward ops come from
    ``GradientRegistry.GetBackwardPass([op], {output: cotangent blob})`` and run after
    the forward op; a sparse gradient (GradientSlice) is scatter-added into the
    input's shape. Inputs of up to 200 elements are checked element by element, larger
    ones along 3 random directions. Returns ``{input index: analytic gradient}``.

    >>> from caffe2lite.builder.operator import CreateOperator
    >>> g = check_gradient(CreateOperator("Sum", ["A", "B"], ["S"]),
    ...                    [np.ones(3), np.zeros(3)], [0, 1])
    >>> sorted(g)
    [0, 1]
    """
    from caffe2lite.gradient.backward import GradientRegistry

    arrays = [np.asarray(x) for x in inputs]
    arrays = [x.astype(np.float64) if x.dtype.kind == "f" else x for x in arrays]
    ws = _feed(op, arrays)
    ws.run_operator_once(op)
    base = [ws.fetch_blob(name) for name in op.output]
    if outputs is None:
        outputs = [k for k, y in enumerate(base)
                   if isinstance(y, np.ndarray) and y.dtype.kind == "f"]
    if not outputs:
        raise AssertionError(f"{op.type}: no float output to build a loss from")
    rng = np.random.default_rng(seed)
    cotangents = {k: rng.standard_normal(np.shape(base[k])) for k in outputs}
    ys = {}
    for k in outputs:
        name = op.output[k]
        grad_name = name + ("_out_grad" if name in op.input else "_grad")
        ws.feed_blob(grad_name, cotangents[k])
        ys[name] = grad_name
    grad_ops, grad_map = GradientRegistry.GetBackwardPass([op], ys)
    for grad_op in grad_ops:
        ws.run_operator_once(grad_op)
    forward = _forward_fn(op)

    def loss(args: list[Any]) -> float:
        res = forward(args)
        return sum(float(np.sum(cotangents[k] * np.asarray(res[k], dtype=np.float64)))
                   for k in outputs)

    result: dict[int, np.ndarray] = {}
    for i in [wrt] if isinstance(wrt, int) else list(wrt):
        name = op.input[i]
        label = f"{op.type} input {i} ('{name}')"
        x = arrays[i]
        if x.dtype.kind != "f":
            raise AssertionError(f"{label} is not a float tensor (dtype {x.dtype})")
        if name not in grad_map:
            raise AssertionError(
                f"{label} got no gradient from the gradient registry; gradients "
                f"were made for {sorted(map(str, grad_map))}")
        analytic = _dense_gradient(ws, grad_map[name], x, label)
        same = [p for p, n in enumerate(op.input) if n == name]
        got, numeric, where = _numeric(loss, arrays, same, analytic, eps, rng)
        _compare(label, got, numeric, where, atol, rtol, eps)
        result[i] = analytic
    return result
