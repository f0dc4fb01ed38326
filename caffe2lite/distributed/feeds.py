"""Columns of a pandas partition -> blobs of a workspace, and blobs -> columns.

A list column ``C`` of integers is an id list: it gives the blob ``C`` (the flat
int64 ids) and the virtual column ``C_lengths`` (the int32 length of each row's
list). A list column of floats whose rows all have the same length k gives one
float32 (N, k) blob. A numeric column gives a float32 (N,) blob, and a list of
numeric columns gives one float32 (N, k) blob, one column per feature.

An output blob of shape (N,) becomes one column named after the blob; an (N, k)
blob becomes k columns ``name_0 .. name_{k-1}`` (flat columns keep parquet files
and pandas frames simple to read back, and every cell a plain number).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from caffe2lite.errors import Caffe2LiteError

LENGTHS_SUFFIX = "_lengths"
Spec = "str | list[str]"


class FeedError(Caffe2LiteError):
    """A column cannot feed the blob it was mapped to, or an output cannot become
    columns."""


def is_list_dtype(dtype: Any) -> bool:
    """Whether a pandas dtype may hold lists (object, or an Arrow list type)."""
    if dtype == object:
        return True
    pa_type = getattr(dtype, "pyarrow_dtype", None)
    return pa_type is not None and "list" in str(pa_type)


def default_inputs(needed: Sequence[str], dtypes: Mapping[str, Any]) -> dict[str, str]:
    """``{blob: column}`` for each needed blob that a column of the same name (or
    the ``_lengths`` of a list column) can feed."""
    mapping: dict[str, str] = {}
    for blob in needed:
        if blob in dtypes:
            mapping[blob] = blob
        elif blob.endswith(LENGTHS_SUFFIX):
            base = blob[: -len(LENGTHS_SUFFIX)]
            if base in dtypes and is_list_dtype(dtypes[base]):
                mapping[blob] = blob
    return mapping


def check_columns(inputs: Mapping[str, Any], dtypes: Mapping[str, Any]) -> None:
    """Every column named in ``inputs`` exists (``C_lengths`` for a list column C)."""
    for blob, spec in inputs.items():
        for column in [spec] if isinstance(spec, str) else list(spec):
            if column in dtypes:
                continue
            base = column[: -len(LENGTHS_SUFFIX)]
            if column.endswith(LENGTHS_SUFFIX) and is_list_dtype(dtypes.get(base)):
                continue
            raise FeedError(
                f"input blob '{blob}' is mapped to column '{column}', which the frame "
                f"does not have; columns: {sorted(dtypes)} (a list column C also "
                "gives C_lengths)",
                blob=blob,
            )


def _list_array(series: Any, column: str) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise FeedError(f"column '{column}' is not a list column: {e}") from None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_list(arr.type) and not pa.types.is_large_list(arr.type):
        raise FeedError(
            f"column '{column}' holds {arr.type}, not lists",
            expected="list<int64> or list<float>",
            found=str(arr.type),
        )
    if arr.null_count:
        raise FeedError(
            f"column '{column}' has {arr.null_count} null lists; an id "
            "list must be a list (empty for no ids)"
        )
    lengths = pc.list_value_length(arr).to_numpy(zero_copy_only=False)
    values = pc.list_flatten(arr)
    if values.null_count:
        raise FeedError(f"column '{column}' has null values inside its lists")
    return lengths, values.to_numpy(zero_copy_only=False), arr.type.value_type


def column_value(frame: Any, column: str) -> np.ndarray:
    """The array one column (or virtual ``C_lengths`` column) of ``frame`` feeds."""
    import pyarrow as pa

    if column not in frame.columns and column.endswith(LENGTHS_SUFFIX):
        base = column[: -len(LENGTHS_SUFFIX)]
        lengths, _, _ = _list_array(frame[base], base)
        return lengths.astype(np.int32)
    series = frame[column]
    if is_list_dtype(series.dtype):
        lengths, values, value_type = _list_array(series, column)
        if pa.types.is_integer(value_type):
            return values.astype(np.int64)
        if not pa.types.is_floating(value_type):
            raise FeedError(
                f"column '{column}' holds lists of {value_type}",
                expected="lists of integers (ids) or of floats (dense)",
                found=str(value_type),
            )
        width = int(lengths[0]) if len(lengths) else 0
        if np.any(lengths != width):
            raise FeedError(
                f"column '{column}' is a dense float feature but its rows have "
                f"different lengths ({int(lengths.min())} to {int(lengths.max())})"
            )
        return values.astype(np.float32).reshape(len(lengths), width)
    if series.dtype.kind not in "biuf":
        raise FeedError(
            f"column '{column}' has type {series.dtype}",
            expected="a numeric or list column",
            found=str(series.dtype),
        )
    return series.to_numpy(dtype=np.float32)


def partition_feeds(frame: Any, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """``{blob: array}`` of one pandas partition under ``{blob: column(s)}``."""
    feeds: dict[str, np.ndarray] = {}
    for blob, spec in inputs.items():
        if isinstance(spec, str):
            feeds[blob] = column_value(frame, spec)
        else:
            parts = [column_value(frame, c) for c in spec]
            if any(p.ndim != 1 for p in parts):
                raise FeedError(
                    f"input blob '{blob}' stacks columns {list(spec)}; "
                    "each must be a numeric column",
                    blob=blob,
                )
            feeds[blob] = (
                np.stack(parts, axis=1)
                if parts
                else np.zeros((len(frame), 0), np.float32)
            )
    return feeds


def output_columns(name: str, value: np.ndarray, rows: int) -> dict[str, np.ndarray]:
    """The columns of one output blob: ``name`` for (N,), ``name_i`` for (N, k)."""
    value = np.asarray(value)
    if value.ndim not in (1, 2) or value.shape[0] != rows:
        raise FeedError(
            f"output blob '{name}' has shape {value.shape}; an output must have one "
            "row per example",
            blob=name,
            expected=f"({rows},) or ({rows}, k)",
            found=str(value.shape),
        )
    if value.ndim == 1:
        return {name: value}
    return {f"{name}_{i}": value[:, i] for i in range(value.shape[1])}


def output_names(name: str, dims: Sequence[int]) -> list[str]:
    """The column names :func:`output_columns` gives a blob of ``dims``."""
    if len(dims) == 1:
        return [name]
    return [f"{name}_{i}" for i in range(dims[1])]
