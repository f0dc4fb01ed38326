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
from caffe2lite.workspace import Workspace


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
        idx = np.argwhere(got != want)[:5] if got.shape else []
        worst = ", ".join(f"{tuple(i)}: got {got[tuple(i)]!r} want {want[tuple(i)]!r}" for i in idx)
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

    >>> from caffe2lite.core import CreateOperator
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
