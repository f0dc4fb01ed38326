"""What convolution and pooling share (Caffe2's ConvPoolOpBase): the kernel, stride,
dilation and padding arguments, the output size of each spatial dimension (with
Caffe2's legacy padding modes), and windowed views of a padded input.
Not an operator module: nothing is registered here.

Arguments: ``kernel`` / ``kernels`` / ``kernel_h``+``kernel_w``, ``stride`` /
``strides`` / ``stride_h``+``stride_w``, ``dilation`` / ``dilations`` /
``dilation_h``+``dilation_w``, ``pad`` / ``pads`` (heads then tails) /
``pad_t``+``pad_l``+``pad_b``+``pad_r``, ``legacy_pad`` (0 NOTSET, 1 VALID, 2 SAME,
3 CAFFE_LEGACY_POOLING), ``global_pooling``, ``group``, ``order`` ("NCHW"/"NHWC").
As in Caffe2, the scalar forms (``kernel``, ``stride``, ``pad``, ``dilation``) mean
two spatial dimensions; 1-D and 3-D ops use the list forms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from caffe2lite.errors import ArgumentError, ShapeError
from caffe2lite.schema.opschema import Arg

from .._dense import dims, enforce_cmp, enforce_that

NOTSET, VALID, SAME, CAFFE_LEGACY_POOLING = 0, 1, 2, 3
LEGACY_PAD_MESSAGE = ("If you use legacy padding VALID or SAME, you should not specify "
                      "any specific padding values.")

CONV_POOL_ARGS = [
    Arg("kernel", int, None, doc="kernel size of both spatial dimensions"),
    Arg("kernels", "ints", None, doc="kernel size per spatial dimension"),
    Arg("kernel_h", int, None), Arg("kernel_w", int, None),
    Arg("stride", int, None, doc="stride of both spatial dimensions (default 1)"),
    Arg("strides", "ints", None), Arg("stride_h", int, None), Arg("stride_w", int, None),
    Arg("dilation", int, None, doc="dilation of both spatial dimensions (default 1)"),
    Arg("dilations", "ints", None), Arg("dilation_h", int, None), Arg("dilation_w", int, None),
    Arg("pad", int, None, doc="padding at both ends of both spatial dimensions (default 0)"),
    Arg("pads", "ints", None, doc="head pads of every spatial dimension, then tail pads"),
    Arg("pad_t", int, None), Arg("pad_l", int, None), Arg("pad_b", int, None),
    Arg("pad_r", int, None),
    Arg("legacy_pad", int, NOTSET, doc="0 NOTSET, 1 VALID, 2 SAME, 3 CAFFE_LEGACY_POOLING"),
    Arg("global_pooling", bool, False, doc="pool over the whole image"),
    Arg("order", str, "NCHW", doc='"NCHW" or "NHWC"',
        check=lambda v: v in ("NCHW", "NHWC"), check_message="Unknown storage order",
        expected='"NCHW" or "NHWC"'),
    Arg("shared_buffer", int, 0, doc="accepted and ignored (a memory hint)"),
]
ARG_NAMES = tuple(a.name for a in CONV_POOL_ARGS)


@dataclass(frozen=True)
class Geometry:
    """One op's resolved window geometry for an input of given spatial size."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_head: tuple[int, ...]
    pad_tail: tuple[int, ...]
    out: tuple[int, ...]

    @property
    def ndim(self) -> int:
        return len(self.kernel)


def _pair(single: Any, listed: Any, h: Any, w: Any, name: str) -> list[int] | None:
    if single is not None:
        return [single, single]
    if h is not None and w is not None:
        return [h, w]
    if listed is not None:
        return list(listed)
    return None


def parse(kw: dict[str, Any]) -> dict[str, Any]:
    """The resolved lists of the convolution/pooling arguments in ``kw``: kernel (or
    None when unset), stride, dilation, pads; checked as Caffe2 checked them."""
    kernel = _pair(kw["kernel"], kw["kernels"], kw["kernel_h"], kw["kernel_w"], "kernel")
    legacy = kw["legacy_pad"]
    if legacy not in (NOTSET, VALID, SAME, CAFFE_LEGACY_POOLING):
        raise ArgumentError(f"Unknown legacy padding {legacy}", arg="legacy_pad",
                            expected="0, 1, 2 or 3", found=legacy)
    explicit_pads = (kw["pad"] is not None or kw["pads"] is not None
                     or all(kw[k] is not None for k in ("pad_t", "pad_l", "pad_b", "pad_r")))
    if legacy in (VALID, SAME) and explicit_pads:
        raise ArgumentError(LEGACY_PAD_MESSAGE, arg="pads",
                            expected="no pads with legacy_pad VALID or SAME", found="pads")
    n = len(kernel) if kernel is not None else None
    stride = _pair(kw["stride"], kw["strides"], kw["stride_h"], kw["stride_w"], "stride")
    dilation = _pair(kw["dilation"], kw["dilations"], kw["dilation_h"], kw["dilation_w"],
                     "dilation")
    if kw["pad"] is not None:
        pads = [kw["pad"]] * 4
    elif all(kw[k] is not None for k in ("pad_t", "pad_l", "pad_b", "pad_r")):
        pads = [kw["pad_t"], kw["pad_l"], kw["pad_b"], kw["pad_r"]]
    elif kw["pads"] is not None:
        pads = list(kw["pads"])
    else:
        pads = None
    for name, values in (("kernel", kernel), ("stride", stride), ("dilation", dilation),
                         ("pads", pads)):
        if values is not None and any(v < 0 for v in values):
            raise ArgumentError(f"{name} must be non-negative", arg=name,
                                expected="values >= 0", found=values)
    return {"kernel": kernel, "stride": stride, "dilation": dilation, "pads": pads, "n": n}


def geometry(spatial: Sequence[int], kw: dict[str, Any], *, kernel_from: Sequence[int] | None = None,
             pooling: bool = False) -> Geometry:
    """Kernel, strides, dilations, pads and output sizes for an image of ``spatial``
    size (Caffe2's InferOutputSize / ComputeSizeAndPad). ``kernel_from`` supplies the
    kernel when the arguments give none (a convolution reads it from its filter)."""
    p = parse(kw)
    nd = len(spatial)
    kernel = p["kernel"]
    if kw["global_pooling"]:
        if p["pads"] and any(p["pads"]) or p["stride"] and any(s != 1 for s in p["stride"]) \
                or p["dilation"] and any(d != 1 for d in p["dilation"]):
            raise ArgumentError(
                "If global_pooling is set pad, dilation and stride shouldn't be set.",
                arg="global_pooling", expected="no pad, stride or dilation", found="set")
        kernel = list(spatial)
    if kernel is None:
        if kernel_from is None:
            raise ArgumentError(
                "If you are doing convolution or pooling, you will need to set explicitly "
                "the kernel size.", arg="kernel", expected="a kernel size", found="none")
        kernel = list(kernel_from)
    stride = p["stride"] or [1] * len(kernel)
    dilation = p["dilation"] or [1] * len(kernel)
    pads = p["pads"] or [0] * (2 * len(kernel))
    enforce_cmp(len(stride) == len(kernel), "stride_.size() == kernel_.size()", len(stride),
                len(kernel), error=ArgumentError)
    enforce_cmp(len(dilation) == len(kernel), "dilation_.size() == kernel_.size()",
                len(dilation), len(kernel), error=ArgumentError)
    if kw["legacy_pad"] not in (VALID, SAME):
        enforce_cmp(len(pads) == 2 * len(kernel), "pads_.size() == 2 * kernel_.size()",
                    len(pads), 2 * len(kernel), error=ArgumentError)
    enforce_cmp(len(kernel) == nd, "kernel_.size() == number of spatial dimensions",
                len(kernel), nd, f"The input has {nd} spatial dimensions {dims(spatial)}")
    if not kw["global_pooling"]:
        for k in kernel:
            enforce_cmp(k > 0, "kernel_[dim] > 0", k, 0, error=ArgumentError)
    for s in stride:
        enforce_cmp(s > 0, "stride_[dim] > 0", s, 0, error=ArgumentError)
    head = list(pads[:nd]) if len(pads) == 2 * nd else [0] * nd
    tail = list(pads[nd:]) if len(pads) == 2 * nd else [0] * nd
    out = []
    for d in range(nd):
        if kw["global_pooling"]:
            head[d] = tail[d] = 0
            out.append(1)
            continue
        size, h, t = _size_and_pad(spatial[d], stride[d], kernel[d], dilation[d],
                                   kw["legacy_pad"], head[d], tail[d])
        head[d], tail[d] = h, t
        out.append(size)
    return Geometry(tuple(kernel), tuple(stride), tuple(dilation), tuple(head), tuple(tail),
                    tuple(out))


def _size_and_pad(in_size: int, stride: int, kernel: int, dilation: int, legacy: int,
                  head: int, tail: int) -> tuple[int, int, int]:
    dkernel = dilation * (kernel - 1) + 1
    if legacy == NOTSET:
        enforce_cmp(in_size + head + tail >= dkernel, "in_size + *pad_head + *pad_tail >= dkernel",
                    in_size + head + tail, dkernel,
                    "The padded input is smaller than the (dilated) kernel")
        return int((in_size + head + tail - dkernel) / stride + 1), head, tail
    if legacy == VALID:
        return (in_size - dkernel) // stride + 1, 0, 0
    if legacy == SAME:
        enforce_that(dilation == 1, "1 == dilation", "Dilation not supported for legacy padding.",
                     error=ArgumentError)
        target = (in_size + stride - 1) // stride
        needed = max((target - 1) * stride + kernel - in_size, 0)
        head = needed // 2
        return (in_size + needed - dkernel) // stride + 1, head, needed - head
    # CAFFE_LEGACY_POOLING: Caffe's pooling output size, rounding up.
    out = math.ceil((in_size + head * 2 - kernel) / stride + 1)
    if head > 0 and (out - 1) * stride >= in_size + head:
        out -= 1
    standard = int((in_size + head * 2 - kernel) / stride + 1)
    return out, head, head + stride * (out - standard)


def spatial_of(shape: Sequence[int], order: str) -> tuple[int, ...]:
    """The spatial dimensions of an image shape in ``order``."""
    return tuple(shape[2:]) if order == "NCHW" else tuple(shape[1:-1])


def channels_of(shape: Sequence[int], order: str) -> int:
    return shape[1] if order == "NCHW" else shape[-1]


def image_shape(n: int, c: int, spatial: Sequence[int], order: str) -> tuple[int, ...]:
    return (n, c, *spatial) if order == "NCHW" else (n, *spatial, c)


def check_image(x: np.ndarray, blob: str, min_spatial: int = 1) -> None:
    enforce_that(x.ndim >= 2 + min_spatial and x.ndim <= 5, f"{blob}.dim() >= 3 && <= 5",
                 f"{blob} must be an image batch of 1 to 3 spatial dimensions",
                 blob=blob, expected="a tensor of rank 3, 4 or 5", found=dims(x.shape))


def to_channels_first(x: np.ndarray, order: str) -> np.ndarray:
    """A view of an NHWC image as NCHW (NCHW images are returned as they are)."""
    if order == "NCHW":
        return x
    return np.moveaxis(x, -1, 1)


def from_channels_first(y: np.ndarray, order: str) -> np.ndarray:
    if order == "NCHW":
        return y
    return np.ascontiguousarray(np.moveaxis(y, 1, -1))


def pad_spatial(x: np.ndarray, geo: Geometry, value: float = 0.0) -> np.ndarray:
    """``x`` (channels first) padded with ``value`` at the heads and tails; a tail pad
    beyond what any window reads is not materialised."""
    widths = [(0, 0), (0, 0)] + [(h, t) for h, t in zip(geo.pad_head, geo.pad_tail)]
    if not any(h or t for h, t in widths):
        return x
    return np.pad(x, widths, mode="constant", constant_values=value)


def windows(xp: np.ndarray, geo: Geometry) -> np.ndarray:
    """A read-only view (N, C, *kernel, *out) of the windows of a padded channels-first
    input: element [n, c, k..., o...] is xp[n, c, o*stride + k*dilation ...]."""
    nd = geo.ndim
    s = xp.strides
    shape = xp.shape[:2] + geo.kernel + geo.out
    strides = s[:2] + tuple(s[2 + d] * geo.dilation[d] for d in range(nd)) \
        + tuple(s[2 + d] * geo.stride[d] for d in range(nd))
    return as_strided(xp, shape=shape, strides=strides, writeable=False)


def windows_last(xp: np.ndarray, geo: Geometry) -> np.ndarray:
    """Like :func:`windows` for a padded channels-last input: a read-only view
    (N, *out, *kernel, C) whose last axis stays contiguous."""
    nd = geo.ndim
    s = xp.strides
    shape = (xp.shape[0],) + geo.out + geo.kernel + (xp.shape[-1],)
    strides = (s[0],) + tuple(s[1 + d] * geo.stride[d] for d in range(nd)) \
        + tuple(s[1 + d] * geo.dilation[d] for d in range(nd)) + (s[-1],)
    return as_strided(xp, shape=shape, strides=strides, writeable=False)


def pad_spatial_last(x: np.ndarray, geo: Geometry, value: float = 0.0) -> np.ndarray:
    """A channels-last ``x`` padded at the heads and tails of its spatial dims."""
    widths = [(0, 0)] + [(h, t) for h, t in zip(geo.pad_head, geo.pad_tail)] + [(0, 0)]
    if not any(h or t for h, t in widths):
        return x
    return np.pad(x, widths, mode="constant", constant_values=value)


def scatter_windows(cols: np.ndarray, padded_shape: Sequence[int], geo: Geometry) -> np.ndarray:
    """The adjoint of :func:`windows`: add every window value (N, C, *kernel, *out)
    back at its place in a zero padded image, one kernel offset at a time."""
    out = np.zeros(padded_shape, dtype=cols.dtype)
    nd = geo.ndim
    for offset in np.ndindex(*geo.kernel):
        index = [slice(None), slice(None)]
        for d in range(nd):
            start = offset[d] * geo.dilation[d]
            index.append(slice(start, start + geo.stride[d] * (geo.out[d] - 1) + 1, geo.stride[d]))
        out[tuple(index)] += cols[(slice(None), slice(None)) + offset]
    return out


def crop(xp: np.ndarray, geo: Geometry, spatial: Sequence[int]) -> np.ndarray:
    """The unpadded part of a padded channels-first image."""
    index = [slice(None), slice(None)] + [slice(h, h + n) for h, n in zip(geo.pad_head, spatial)]
    return xp[tuple(index)]


def check_float(x: Any, blob: str, dtype: np.dtype | None = None) -> np.dtype:
    from .._dense import float_tensor

    return float_tensor(x, blob, dtype)


def bad_order(order: str) -> ShapeError:
    return ShapeError(f"Unknown storage order: {order}", expected='"NCHW" or "NHWC"',
                      found=order)
