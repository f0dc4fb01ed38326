"""What the RoI operators share: RoI tensor checks and the separable bilinear sampling
weights of RoIAlign (Caffe2's pre_calc_for_bilinear_interpolate, computed in float32
exactly as its kernel did, then laid out as per-RoI interpolation matrices). Not an
operator module: nothing is registered here."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.opschema import Arg

from .._dense import dims, enforce_cmp, enforce_that, float_tensor


def _positive(name: str, doc: str) -> Arg:
    return Arg(name, int, 1, doc=doc, check=lambda v: v > 0,
               check_message=f"{name} must be positive", expected="> 0")


#: ``pooled_h`` and ``pooled_w``, as every RoI pooling op declares them.
POOLED_SIZE_ARGS = (
    _positive("pooled_h", "height of each pooled output"),
    _positive("pooled_w", "width of each pooled output"),
)

MAX_WORK = 1 << 28  # elements of the largest intermediate array an op may build


def check_rois(rois: Any, blob: str = "RoIs") -> np.ndarray:
    float_tensor(rois, blob, np.dtype(np.float32))
    enforce_cmp(rois.ndim == 2, "R.dim() == 2", rois.ndim, 2, blob=blob)
    enforce_that(
        rois.shape[1] in (4, 5),
        "R.dim32(1) == 4 || R.dim32(1) == 5",
        blob=blob,
        expected="4 or 5 columns",
        found=rois.shape[1],
    )
    return rois


def check_image(x: Any, blob: str = "X") -> np.ndarray:
    float_tensor(x, blob, np.dtype(np.float32))
    if x.ndim != 4:
        raise ShapeError(
            f"{blob} must be a 4-D feature map",
            blob=blob,
            expected="rank 4",
            found=dims(x.shape),
        )
    return x


def batch_indices(rois: np.ndarray, n: int, blob: str = "RoIs") -> np.ndarray:
    """Column 0 of 5-column RoIs truncated to int (0 for 4 columns), checked against
    the batch size (Caffe2 read outside X for a bad index)."""
    if rois.shape[1] == 4:
        return np.zeros(rois.shape[0], np.int64)
    b = np.trunc(rois[:, 0]).astype(np.int64)
    bad = (b < 0) | (b >= n) | ~np.isfinite(rois[:, 0])
    if bad.any():
        i = int(np.argmax(bad))
        raise EnforceError(
            f"RoI {i} has batch index {rois[i, 0]} outside [0, {n})",
            blob=blob,
            expected=f"batch indices in [0, {n - 1}]",
            found=float(rois[i, 0]),
        )
    return b


def check_work(size: int, what: str) -> None:
    if size > MAX_WORK:
        raise EnforceError(
            f"{what} would need {size} elements of work space",
            expected=f"at most {MAX_WORK}",
            found=size,
        )


def axis_samples(
    start: np.ndarray, bin_size: np.ndarray, grid: np.ndarray, pooled: int, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Along one axis, for every RoI, bin and grid sample (R, pooled, G): the low and
    high pixel, the fraction towards the high one, and whether the sample counts (in
    the RoI's grid and not more than one pixel outside the image). float32, in the
    kernel's order of operations."""
    f = np.float32
    r = start.shape[0]
    g_max = int(grid.max()) if r else 1
    p = np.arange(pooled, dtype=f)[None, :, None]
    i = np.arange(g_max)[None, None, :]
    # start + p * bin + (i + .5f) * bin / grid
    coord = (start[:, None, None] + p * bin_size[:, None, None]) + (
        (i.astype(f) + f(0.5)) * bin_size[:, None, None]
    ) / grid[:, None, None].astype(f)
    used = i < grid[:, None, None]
    valid = used & ~((coord < f(-1.0)) | (coord > f(size)))
    c = np.where(coord <= 0, f(0), coord)
    low = np.where(valid, c, 0).astype(np.int64)  # (int) of a non-negative float
    at_end = low >= size - 1
    low = np.where(at_end, size - 1, low)
    high = np.where(at_end, size - 1, low + 1)
    c = np.where(at_end, low.astype(f), c)
    frac = np.where(valid, c - low.astype(f), f(0)).astype(f)
    return low, high, frac, valid


def _axis_weights(
    start: np.ndarray, bin_size: np.ndarray, grid: np.ndarray, pooled: int, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per RoI, the (R, pooled, size) matrix of summed bilinear weights along one axis
    over the grid samples of each bin, and the (R, pooled, G) validity of each sample."""
    f = np.float32
    low, high, frac, valid = axis_samples(start, bin_size, grid, pooled, size)
    hi_w = (f(1.0) - frac).astype(f)
    axis = np.arange(size)
    onehot_low = low[..., None] == axis
    onehot_high = high[..., None] == axis
    w = (onehot_low * hi_w[..., None] + onehot_high * frac[..., None]) * valid[
        ..., None
    ]
    return w.sum(axis=2, dtype=np.float64), valid


def roi_grid(
    rois: np.ndarray,
    spatial_scale: float,
    pooled_h: int,
    pooled_w: int,
    sampling_ratio: int,
    aligned: bool,
):
    """Per RoI (float32, as the kernel): start_h, start_w, bin_h, bin_w, grid_h, grid_w."""
    f = np.float32
    box = rois[:, -4:].astype(f)
    scale = f(spatial_scale)
    offset = f(0.5) if aligned else f(0.0)
    start_w, start_h = box[:, 0] * scale - offset, box[:, 1] * scale - offset
    end_w, end_h = box[:, 2] * scale - offset, box[:, 3] * scale - offset
    roi_w, roi_h = end_w - start_w, end_h - start_h
    if not aligned:  # force malformed RoIs to be 1x1
        roi_w, roi_h = np.maximum(roi_w, f(1.0)), np.maximum(roi_h, f(1.0))
    bin_h, bin_w = roi_h / f(pooled_h), roi_w / f(pooled_w)
    if sampling_ratio > 0:
        grid_h = np.full(len(rois), sampling_ratio, np.int64)
        grid_w = grid_h
    else:
        grid_h = np.ceil(roi_h / f(pooled_h)).astype(np.int64)
        grid_w = np.ceil(roi_w / f(pooled_w)).astype(np.int64)
    return start_h, start_w, bin_h, bin_w, grid_h, grid_w


def align_weights(
    rois: np.ndarray,
    spatial_scale: float,
    pooled_h: int,
    pooled_w: int,
    sampling_ratio: int,
    height: int,
    width: int,
    aligned: bool,
):
    """(Wy (R, ph, H), Wx (R, pw, W), count (R,)): Y[r, c] = Wy[r] X[b_r, c] Wx[r]^T /
    count[r] is RoIAlign's average of bilinear samples."""
    start_h, start_w, bin_h, bin_w, grid_h, grid_w = roi_grid(
        rois, spatial_scale, pooled_h, pooled_w, sampling_ratio, aligned
    )
    g = int(max(grid_h.max(initial=0), grid_w.max(initial=0)))
    check_work(
        len(rois) * max(pooled_h * height, pooled_w * width) * max(g, 1), "RoIAlign"
    )
    with np.errstate(divide="ignore", invalid="ignore"):  # a grid of 0 samples
        wy, _ = _axis_weights(start_h, bin_h, grid_h, pooled_h, height)
        wx, _ = _axis_weights(start_w, bin_w, grid_w, pooled_w, width)
    count = np.maximum(grid_h * grid_w, 1).astype(np.float64)
    return wy, wx, count
