"""ConditionalSetAtomicBool: set a shared atomic bool to true when a condition holds.

Caffe2 kept the flag in a blob holding ``std::unique_ptr<std::atomic<bool>>`` (made
by CreateAtomicBool, read by CheckAtomicBool) so that nets running in parallel could
raise it. Here the blob holds an :class:`AtomicBool`; the op accepts any object with
that ``store`` / ``load`` interface.
"""

from __future__ import annotations

import threading

import numpy as np

from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

# How Caffe2 named the type of an atomic bool blob (type-mismatch messages).
ATOMIC_BOOL_TYPE_NAME = "std::unique_ptr<std::atomic<bool>>"


class AtomicBool:
    """A bool that threads may set and read safely (``std::atomic<bool>``).

    >>> flag = AtomicBool()
    >>> flag.load()
    False
    >>> flag.store(True); flag.load()
    True
    """

    __slots__ = ("_lock", "_value")

    def __init__(self, value: bool = False) -> None:
        self._lock = threading.Lock()
        self._value = bool(value)

    def store(self, value: bool) -> None:
        with self._lock:
            self._value = bool(value)

    def load(self) -> bool:
        with self._lock:
            return self._value

    def __repr__(self) -> str:
        return f"<{ATOMIC_BOOL_TYPE_NAME}: {str(self.load()).lower()}>"


@register_cpu_operator(
    "ConditionalSetAtomicBool",
    inputs=["atomic_bool", "condition"],
    outputs=[],
    shape=lambda atomic_bool, condition: (),
    example=Example({"atomic_bool": AtomicBool(), "condition": np.array([True])}, {}),
    doc="""Sets the atomic bool held by the first input to true when the first element of
``condition`` (a bool tensor) is true; otherwise leaves it as it is. No outputs: the
flag is shared state, changed where it lives (Caffe2's std::atomic<bool>::store), so
that CheckAtomicBool or another net sees it. An empty condition is an error (Caffe2
read past its end).

Example: atomic_bool=<false>, condition=[True] -> () (atomic_bool now holds true)""",
)
def conditional_set_atomic_bool(atomic_bool: AtomicBool, condition: np.ndarray) -> tuple:
    """``atomic_bool.store(True)`` when ``condition[0]``."""
    if not (callable(getattr(atomic_bool, "store", None))
            and callable(getattr(atomic_bool, "load", None))):
        found = (
            "caffe2::Tensor" if isinstance(atomic_bool, np.ndarray) else type(atomic_bool).__name__
        )
        raise DTypeError(f"wrong type for the Blob instance. Blob contains {found} while caller "
                         f"expects {ATOMIC_BOOL_TYPE_NAME}", blob="atomic_bool",
                         expected=ATOMIC_BOOL_TYPE_NAME, found=found)
    check_dtype(condition, "condition", np.bool_)
    if condition.size == 0:
        raise ShapeError("condition.numel() >= 1", blob="condition", expected="at least one value",
                         found="an empty tensor")
    if condition.reshape(-1)[0]:
        atomic_bool.store(True)
    return ()


should_not_do_gradient("ConditionalSetAtomicBool")
