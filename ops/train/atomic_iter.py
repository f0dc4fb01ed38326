"""AtomicIter: Iter under a mutex (Hogwild-style training)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import DTypeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from .create_mutex import MUTEX_TYPE_NAME, Mutex
from .iter import increment_iter, iter_shape


def _blob_type(value: object) -> str:
    if isinstance(value, np.ndarray):
        return "caffe2::Tensor"
    return type(value).__name__


@register_cpu_operator(
    "AtomicIter",
    inputs=["mutex", "iter"],
    outputs=["iter"],
    shape=lambda mutex, counter: iter_shape(counter),
    example=Example(
        {"mutex": Mutex(), "iter": np.array([0], np.int64)},
        {"iter": np.array([1], np.int64)},
    ),
    enforce_inplace=[(1, 0)],
    doc="""Like Iter, but increments the counter while holding ``mutex`` (a blob made by
CreateMutex), so that concurrent updates stay atomic. ``iter`` is a 1-element int64
tensor, updated in place.

Example: mutex=<mutex>, iter=[0] -> iter=[1]""",
)
def atomic_iter(mutex: Mutex, counter: np.ndarray) -> tuple[np.ndarray]:
    """``counter + 1``, computed with ``mutex`` held."""
    if not isinstance(mutex, Mutex):
        found = _blob_type(mutex)
        raise DTypeError(
            f"wrong type for the Blob instance. Blob contains {found} while caller expects "
            f"{MUTEX_TYPE_NAME}",
            blob="mutex",
            expected=MUTEX_TYPE_NAME,
            found=found,
        )
    with mutex:
        return (increment_iter(counter, "iter"),)


no_gradient("AtomicIter")
