"""Box arithmetic shared by the detection operators (Caffe2's
generate_proposals_op_util_boxes.h): the regression transform of upright [x1, y1, x2,
y2] and rotated [ctr_x, ctr_y, w, h, angle] boxes, clipping to the image and the
size/centre filter, in float32 as Caffe2's Eigen code computed them. Not an operator
module: nothing is registered here."""

from __future__ import annotations

import math

import numpy as np

from caffe2lite.errors import ArgumentError

F = np.float32
BBOX_XFORM_CLIP_DEFAULT = F(math.log(1000.0 / 16.0))
PI = F(3.14159265358979323846)


def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=F)


def transform_upright(
    boxes: np.ndarray,
    deltas: np.ndarray,
    weights,
    clip: float,
    correct: bool,
    plus_one: bool = True,
) -> np.ndarray:
    """Apply [dx, dy, dw, dh] deltas ((M, 4) each, float32) to [x1, y1, x2, y2] boxes."""
    w = [F(v) for v in weights]
    plus = F(1) if plus_one else F(0)
    widths = boxes[:, 2] - boxes[:, 0] + plus
    heights = boxes[:, 3] - boxes[:, 1] + plus
    ctr_x = boxes[:, 0] + F(0.5) * widths
    ctr_y = boxes[:, 1] + F(0.5) * heights
    dx, dy = deltas[:, 0] / w[0], deltas[:, 1] / w[1]
    dw = np.minimum(deltas[:, 2] / w[2], F(clip))
    dh = np.minimum(deltas[:, 3] / w[3], F(clip))
    px, py = dx * widths + ctr_x, dy * heights + ctr_y
    with np.errstate(over="ignore"):
        pw, ph = np.exp(dw) * widths, np.exp(dh) * heights
    off = F(1) if correct else F(0)
    return np.stack(
        [
            px - F(0.5) * pw,
            py - F(0.5) * ph,
            px + F(0.5) * pw - off,
            py + F(0.5) * ph - off,
        ],
        axis=1,
    ).astype(F)


def transform_rotated(
    boxes: np.ndarray,
    deltas: np.ndarray,
    weights,
    clip: float,
    bound_on: bool,
    lo: int,
    hi: int,
) -> np.ndarray:
    """Apply [dx, dy, dw, dh, da (radians)] deltas to [ctr_x, ctr_y, w, h, angle
    (degrees)] boxes; angles brought back into [lo, hi] by one period when bound_on."""
    w = [F(v) for v in weights]
    dx, dy = deltas[:, 0] / w[0], deltas[:, 1] / w[1]
    dw = np.minimum(deltas[:, 2] / w[2], F(clip))
    dh = np.minimum(deltas[:, 3] / w[3], F(clip))
    da = (deltas[:, 4].astype(np.float64) * 180.0 / float(PI)).astype(F)
    with np.errstate(over="ignore"):
        out = np.stack(
            [
                dx * boxes[:, 2] + boxes[:, 0],
                dy * boxes[:, 3] + boxes[:, 1],
                np.exp(dw) * boxes[:, 2],
                np.exp(dh) * boxes[:, 3],
                da + boxes[:, 4],
            ],
            axis=1,
        ).astype(F)
    if bound_on:
        period = hi - lo
        if not (period > 0 and period % 180 == 0):
            raise ArgumentError(
                "period > 0 && period % 180 == 0",
                arg="angle_bound_hi",
                expected="angle_bound_hi - angle_bound_lo a positive multiple of 180",
                found=period,
            )
        a = out[:, 4]
        out[:, 4] = np.where(a < lo, a + F(period), np.where(a > hi, a - F(period), a))
    return out


def clip_upright(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    limits = np.array([width - 1, height - 1, width - 1, height - 1], np.float64)
    return np.maximum(np.minimum(boxes, limits), 0).astype(F)


def clip_rotated(
    boxes: np.ndarray, height: int, width: int, thresh: float
) -> np.ndarray:
    """Clip only the almost upright boxes (|angle| <= thresh), through [x1, y1, x2, y2]."""
    out = boxes.copy()
    up = np.abs(boxes[:, 4]) <= F(thresh)
    if up.any():
        b = boxes[up].astype(np.float64)
        half_w, half_h = (
            (b[:, 2].astype(F) - F(1)) / 2.0,
            (b[:, 3].astype(F) - F(1)) / 2.0,
        )
        xyxy = np.stack(
            [b[:, 0] - half_w, b[:, 1] - half_h, b[:, 0] + half_w, b[:, 1] + half_h],
            axis=1,
        ).astype(F)
        c = clip_upright(xyxy, height, width).astype(np.float64)
        out[up, 0] = ((c[:, 0] + c[:, 2]) / 2.0).astype(F)
        out[up, 1] = ((c[:, 1] + c[:, 3]) / 2.0).astype(F)
        out[up, 2] = (c[:, 2] - c[:, 0] + 1.0).astype(F)
        out[up, 3] = (c[:, 3] - c[:, 1] + 1.0).astype(F)
    return out


def clip_boxes(boxes: np.ndarray, height: int, width: int, thresh: float) -> np.ndarray:
    if boxes.shape[1] == 4:
        return clip_upright(boxes, height, width)
    return clip_rotated(boxes, height, width, thresh)


def filter_boxes(
    boxes: np.ndarray, min_size: float, im_info: np.ndarray, plus_one: bool = True
) -> np.ndarray:
    """Indices of the boxes with both sides >= min_size * scale and the centre inside
    the image."""
    min_size = float(min_size) * float(im_info[2])
    plus = F(1) if plus_one else F(0)
    if boxes.shape[1] == 4:
        ws = boxes[:, 2] - boxes[:, 0] + plus
        hs = boxes[:, 3] - boxes[:, 1] + plus
        x_ctr, y_ctr = boxes[:, 0] + ws / F(2), boxes[:, 1] + hs / F(2)
    else:
        x_ctr, y_ctr, ws, hs = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    keep = (
        (ws >= min_size)
        & (hs >= min_size)
        & (x_ctr < F(im_info[1]))
        & (y_ctr < F(im_info[0]))
    )
    return np.flatnonzero(keep)
