"""The logical ops And, Or, Xor: C = A op B element-wise on bool tensors, with
Caffe2's broadcasting (one table row per op)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from . import _binary

_A = np.array([[True, True], [False, False]])
_B = np.array([True, False])

# (op type, numpy ufunc, the operation in words)
TABLE = [
    ("And", np.logical_and, "logical and"),
    ("Or", np.logical_or, "logical or"),
    ("Xor", np.logical_xor, "logical exclusive or"),
]


def _doc(words: str) -> str:
    return f"""Element-wise {words} of two bool tensors: C = A {words} B (any other type is
"Unsupported type of tensor"). By default shapes broadcast numpy-style (aligned from
the right, a dimension of 1 stretches). With ``broadcast=1`` (legacy mode) C has A's
shape and B is a single element or matches a contiguous run of A's dimensions
starting at ``axis`` (or at the axis ``axis_str`` names in ``order``; by default the
run ends at A's last dimension). C may overwrite A in place. Asking for its gradient
is an error (SHOULD_NOT_DO)."""


def _register(op_type: str, ufunc: Callable, words: str) -> Callable:
    @register_cpu_operator(
        op_type,
        inputs=["A", "B"],
        outputs=["C"],
        args=_binary.ARGS,
        allow_inplace=[(0, 0)],
        shape=_binary.shape_function(None),
        example=Example({"A": _A, "B": _B}, {"C": ufunc(_A, _B)}),
        doc=_doc(words),
    )
    def logical(
        a: np.ndarray,
        b: np.ndarray,
        *,
        broadcast: bool,
        axis: int,
        axis_str: str,
        order: str,
    ) -> tuple[np.ndarray]:
        """C = A op B on bool tensors, with Caffe2's broadcasting."""
        return _binary.forward(
            ufunc, a, b, _binary.BOOL, None, broadcast, axis, axis_str, order
        )

    logical.__name__ = logical.__qualname__ = op_type.lower()
    should_not_do_gradient(op_type)
    return logical


KERNELS = {op_type: _register(op_type, ufunc, words) for op_type, ufunc, words in TABLE}
