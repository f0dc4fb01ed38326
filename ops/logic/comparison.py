"""The comparison ops EQ, NE, LT, LE, GT, GE: C = A op B element-wise, as bool, with
Caffe2's broadcasting (one table row per op)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from . import _binary

_A = np.array([1, 5, 2, 9, 12, 3], np.int64)
_B = np.array([1, 3, 4, 9, 12, 8], np.int64)

# (op type, numpy ufunc, the comparison in words)
TABLE = [
    ("EQ", np.equal, "equal to (==)"),
    ("NE", np.not_equal, "not equal to (!=)"),
    ("LT", np.less, "less than (<)"),
    ("LE", np.less_equal, "less than or equal to (<=)"),
    ("GT", np.greater, "greater than (>)"),
    ("GE", np.greater_equal, "greater than or equal to (>=)"),
]


def _doc(words: str) -> str:
    return f"""Element-wise comparison: C is True where A is {words} B. A and B share one
type (bool, int32, int64, float32 or float64); C is bool. By default shapes broadcast numpy-style
(aligned from the right, a dimension of 1 stretches). With ``broadcast=1`` (legacy
mode) C has A's shape and B is a single element or matches a contiguous run of A's
dimensions starting at ``axis`` (or at the axis ``axis_str`` names in ``order``; by
default the run ends at A's last dimension). NaN compares as in C++ (only NE is true).
No in-place use. Asking for its gradient is an error (SHOULD_NOT_DO). Shape inference
follows the kernel's numpy broadcasting (Caffe2's own shape function wanted equal
shapes unless broadcast=1, although its kernel broadcast)."""


def _register(op_type: str, ufunc: Callable, words: str) -> Callable:
    @register_cpu_operator(
        op_type,
        inputs=["A", "B"],
        outputs=["C"],
        args=_binary.ARGS,
        shape=_binary.shape_function(np.dtype(np.bool_)),
        example=Example({"A": _A, "B": _B}, {"C": ufunc(_A, _B)}),
        doc=_doc(words),
    )
    def compare(
        a: np.ndarray,
        b: np.ndarray,
        *,
        broadcast: bool,
        axis: int,
        axis_str: str,
        order: str,
    ) -> tuple[np.ndarray]:
        """C = A op B as bool, with Caffe2's broadcasting."""
        return _binary.forward(
            ufunc,
            a,
            b,
            _binary.COMPARABLE,
            np.dtype(np.bool_),
            broadcast,
            axis,
            axis_str,
            order,
        )

    compare.__name__ = compare.__qualname__ = op_type.lower()
    should_not_do_gradient(op_type)
    return compare


KERNELS = {op_type: _register(op_type, ufunc, words) for op_type, ufunc, words in TABLE}
