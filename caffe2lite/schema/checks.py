"""Checks that kernels make on their data, with Caffe2's messages.

Kernels name blobs by their schema names (``"Lengths"``); the executor turns those
into the op's real blob names when it reports the error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import DTypeError, EnforceError, ShapeError

# How Caffe2 (C++ TypeMeta) spelled element types in its messages.
CPP_TYPE_NAMES = {
    np.dtype(np.float32): "float",
    np.dtype(np.float64): "double",
    np.dtype(np.float16): "c10::Half",
    np.dtype(np.int32): "int",
    np.dtype(np.int64): "long",
    np.dtype(np.int16): "short",
    np.dtype(np.uint16): "unsigned short",
    np.dtype(np.int8): "signed char",
    np.dtype(np.uint8): "unsigned char",
    np.dtype(np.bool_): "bool",
    np.dtype(object): "std::string",
}


def cpp_type_name(dtype: Any) -> str:
    """Caffe2's name for a numpy dtype (``int64`` -> ``long``)."""
    dtype = np.dtype(dtype)
    return CPP_TYPE_NAMES.get(dtype, str(dtype))


def enforce(condition: Any, message: str, **fields: Any) -> None:
    """Raise EnforceError(message, **fields) unless ``condition`` holds."""
    if not condition:
        raise EnforceError(message, **fields)


def check_dtype(arr: Any, blob: str, *dtypes: Any) -> None:
    """Caffe2's tensor type check: ``arr`` must have one of ``dtypes``.

    >>> check_dtype(np.zeros(2, np.int32), "X", np.int64)
    Traceback (most recent call last):
    ...
    caffe2lite.errors.DTypeError: Tensor type mismatch, caller expects elements to be long while tensor contains int (blob 'X': expected int64, found int32)
    """
    if not isinstance(arr, np.ndarray):
        raise DTypeError("expected a tensor", blob=blob, expected="a numpy array",
                         found=type(arr).__name__)
    if arr.dtype in dtypes:
        return
    wanted = np.dtype(dtypes[0])
    raise DTypeError(
        f"Tensor type mismatch, caller expects elements to be {cpp_type_name(wanted)} "
        f"while tensor contains {cpp_type_name(arr.dtype)}",
        blob=blob, expected=" or ".join(str(np.dtype(d)) for d in dtypes), found=str(arr.dtype))


def check_ndim(arr: np.ndarray, blob: str, ndim: int, message: str) -> None:
    """``arr`` must have rank ``ndim`` (Caffe2's message given by the caller)."""
    if arr.ndim != ndim:
        raise ShapeError(message, blob=blob, expected=f"{ndim}-D",
                         found=f"{arr.ndim}-D shape {tuple(arr.shape)}")


def check_min_ndim(arr: np.ndarray, blob: str, ndim: int, message: str) -> None:
    if arr.ndim < ndim:
        raise ShapeError(message, blob=blob, expected=f"at least {ndim}-D",
                         found=f"{arr.ndim}-D shape {tuple(arr.shape)}")


def check_lengths(lengths: np.ndarray, blob: str = "LENGTHS") -> None:
    """Segment lengths must be int32 and non-negative."""
    check_dtype(lengths, blob, np.int32)
    if lengths.size and lengths.min() < 0:
        bad = int(np.flatnonzero(lengths < 0)[0])
        raise EnforceError("Segment lengths must be non-negative", blob=blob,
                           expected="lengths >= 0", found=f"{int(lengths[bad])} at index {bad}")
