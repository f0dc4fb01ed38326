"""Hypothesis strategies of Caffe2's ``hypothesis_test_util``: tensors, segmented
and lengths tensors, and the device options a CPU-only runtime has (``gcs``: a
gradient-checker device ``gc`` and device-checker devices ``dc``).

Needs the ``test`` extra (hypothesis); :mod:`caffe2lite.testing.hypothesis_util`
imports it with a message when it is missing.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Literal

import hypothesis
import hypothesis.extra.numpy
import hypothesis.strategies as st
import numpy as np

from caffe2lite.proto import caffe2_pb2


# -- strategies ------------------------------------------------------------------------
def floats(*args: Any, **kwargs: Any) -> Any:
    """Caffe2's ``hu.floats``: ``st.floats`` drawing float32 values (``width=32``, with
    the bounds rounded to float32) unless a width is given."""
    if "width" not in kwargs:
        kwargs["width"] = 32
        for bound in ("min_value", "max_value"):
            if kwargs.get(bound) is not None:
                kwargs[bound] = float(np.float32(kwargs[bound]))
    return st.floats(*args, **kwargs)


def dims(min_value: int = 1, max_value: int = 5) -> Any:
    return st.integers(min_value=min_value, max_value=max_value)


def elements_of_type(dtype: Any = np.float32, filter_: Callable[..., bool] | None = None) -> Any:
    """Values for arrays of ``dtype``: floats in [-1, 1], non-negative ints, booleans."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        width: Literal[16, 32, 64] = 16 if dtype == np.float16 else 32 if dtype == np.float32 else 64
        elems = st.floats(min_value=-1.0, max_value=1.0, width=width)
    elif dtype == np.int32:
        elems = st.integers(min_value=0, max_value=2 ** 31 - 1)
    elif dtype == np.int64:
        elems = st.integers(min_value=0, max_value=2 ** 63 - 1)
    elif dtype == np.bool_:
        elems = st.booleans()
    else:
        raise ValueError("Unexpected dtype without elements provided")
    return elems if filter_ is None else elems.filter(filter_)


def arrays(dims: Any, dtype: Any = np.float32, elements: Any = None, unique: bool = False) -> Any:
    if elements is None:
        elements = elements_of_type(dtype)
    return hypothesis.extra.numpy.arrays(dtype, dims, elements=elements, unique=unique)


def tensor(min_dim: int = 1, max_dim: int = 4, dtype: Any = np.float32, elements: Any = None,
           unique: bool = False, **kwargs: Any) -> Any:
    """An array of rank ``min_dim``..``max_dim``, each dimension from ``dims(**kwargs)``."""
    shape = st.lists(dims(**kwargs), min_size=min_dim, max_size=max_dim)
    return shape.flatmap(lambda d: arrays(d, dtype, elements, unique=unique))


def tensor1d(min_len: int = 1, max_len: int = 64, dtype: Any = np.float32,
             elements: Any = None) -> Any:
    return tensor(1, 1, dtype, elements, min_value=min_len, max_value=max_len)


def segment_ids(size: int, is_sorted: bool) -> Any:
    """Segment ids for ``size`` rows: sorted from 0 without gaps, or any in [0, 2*size]."""
    if size == 0:
        return st.just(np.empty(shape=[0], dtype=np.int32))
    if is_sorted:
        return arrays([size], dtype=np.int32, elements=st.booleans()).map(
            lambda x: np.cumsum(x, dtype=np.int32) - x[0])
    return arrays([size], dtype=np.int32, elements=st.integers(min_value=0, max_value=2 * size))


def lengths(size: int, min_segments: int | None = None, max_segments: int | None = None,
            **kwargs: Any) -> Any:
    """int32 segment lengths (zeros allowed) that sum to ``size``."""
    min_segments = 0 if min_segments is None else min_segments
    max_segments = size if max_segments is None else max_segments
    assert 0 <= min_segments <= max_segments
    if size == 0 and max_segments == 0:
        return st.just(np.empty(shape=[0], dtype=np.int32))
    assert max_segments > 0, "size is not 0, need at least one segment"

    def from_cuts(cuts: np.ndarray) -> np.ndarray:
        edges = np.sort(np.concatenate([cuts, np.array([0, size], dtype=np.int32)]))
        return np.diff(edges).astype(np.int32)

    return st.integers(min_value=max(min_segments - 1, 0), max_value=max_segments - 1).flatmap(
        lambda n: hypothesis.extra.numpy.arrays(
            np.int32, n, elements=st.integers(min_value=0, max_value=size))).map(from_cuts)


def segmented_tensor(min_dim: int = 1, max_dim: int = 4, dtype: Any = np.float32,
                     is_sorted: bool = True, elements: Any = None,
                     segment_generator: Callable[..., Any] = segment_ids,
                     allow_empty: bool = False, **kwargs: Any) -> Any:
    """``(data, segments)``: an array and a segmentation of its first dimension."""
    empty = st.booleans() if allow_empty else st.just(False)
    shape = st.tuples(empty, st.lists(dims(**kwargs), min_size=min_dim, max_size=max_dim)).map(
        lambda pair: ([0] if pair[0] else []) + pair[1])
    return shape.flatmap(lambda d: st.tuples(
        arrays(d, dtype, elements), segment_generator(d[0], is_sorted=is_sorted)))


def lengths_tensor(min_segments: int | None = None, max_segments: int | None = None,
                   *args: Any, **kwargs: Any) -> Any:
    gen = functools.partial(lengths, min_segments=min_segments, max_segments=max_segments)
    return segmented_tensor(*args, segment_generator=gen, **kwargs)  # type: ignore[misc]


def sparse_segmented_tensor(min_dim: int = 1, max_dim: int = 4, dtype: Any = np.float32,
                            is_sorted: bool = True, elements: Any = None,
                            allow_empty: bool = False,
                            segment_generator: Callable[..., Any] = segment_ids,
                            itype: Any = np.int64, **kwargs: Any) -> Any:
    """``(data, indices, segments)``: rows of data picked by indices, segmented."""
    empty = st.booleans() if allow_empty else st.just(False)
    data_dims = st.lists(dims(**kwargs), min_size=min_dim, max_size=max_dim)
    all_dims = st.tuples(empty, data_dims).flatmap(lambda pair: st.tuples(
        st.just(pair[1]),
        st.integers(min_value=1, max_value=pair[1][0]) if not pair[0] else st.just(0)))
    return all_dims.flatmap(lambda d: st.tuples(
        arrays(d[0], dtype, elements),
        arrays(d[1], dtype=itype, elements=st.integers(min_value=0, max_value=d[0][0] - 1)),
        segment_generator(d[1], is_sorted=is_sorted)))


def sparse_lengths_tensor(**kwargs: Any) -> Any:
    return sparse_segmented_tensor(segment_generator=lengths, **kwargs)


def tensors(n: int, min_dim: int = 1, max_dim: int = 4, dtype: Any = np.float32,
            elements: Any = None, **kwargs: Any) -> Any:
    """``n`` arrays of one shape."""
    shape = st.lists(dims(**kwargs), min_size=min_dim, max_size=max_dim)
    return shape.flatmap(lambda d: st.lists(arrays(d, dtype, elements), min_size=n, max_size=n))


def ntensors(min_n: int, max_n: int, min_dim: int = 1, max_dim: int = 4,
             dtype: Any = np.float32, elements: Any = None, **kwargs: Any) -> Any:
    """``min_n``..``max_n`` arrays of one shape."""
    shape = st.lists(dims(**kwargs), min_size=min_dim, max_size=max_dim)
    return shape.flatmap(lambda d: st.lists(arrays(d, dtype, elements),
                                            min_size=min_n, max_size=max_n))


def tensors1d(n: int, min_len: int = 1, max_len: int = 64, dtype: Any = np.float32,
              elements: Any = None) -> Any:
    return tensors(n, 1, 1, dtype, elements, min_value=min_len, max_value=max_len)


# -- devices: the CPU only ------------------------------------------------------------------
cpu_do = caffe2_pb2.DeviceOption()
cuda_do = caffe2_pb2.DeviceOption(device_type=caffe2_pb2.CUDA)
hip_do = caffe2_pb2.DeviceOption(device_type=caffe2_pb2.HIP)
gpu_do = caffe2_pb2.DeviceOption(device_type=caffe2_pb2.CUDA)
_device_options_no_hip = [cpu_do]
device_options = [cpu_do]
expanded_device_options = [cpu_do]


def device_checker_device_options() -> Any:
    return st.just(device_options)


def gradient_checker_device_option() -> Any:
    return st.sampled_from(device_options)


gcs = dict(gc=gradient_checker_device_option(), dc=device_checker_device_options())
gcs_cpu_only = dict(gc=st.sampled_from([cpu_do]), dc=st.just([cpu_do]))
gcs_cuda_only = dict(gc=st.sampled_from([cuda_do]), dc=st.just([cuda_do]))
gcs_gpu_only = dict(gc=st.sampled_from([gpu_do]), dc=st.just([gpu_do]))
gcs_no_hip = dict(gc=st.sampled_from(_device_options_no_hip), dc=st.just(_device_options_no_hip))
