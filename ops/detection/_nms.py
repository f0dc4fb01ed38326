"""Greedy and soft non-maximum suppression of upright (and rotated) boxes (Caffe2's
generate_proposals_op_util_nms.h, after Detectron's cython_nms), in float32. Each
round keeps one box and drops, in one vectorised step, every remaining box that
overlaps it too much: the loop runs once per kept box, which is what makes NMS greedy.
Not an operator module: nothing is registered here."""

from __future__ import annotations

import numpy as np

from ._rotated import intersection_areas

F = np.float32


def _overlaps(
    boxes: np.ndarray, i: int, rest: np.ndarray, areas: np.ndarray, plus: np.float32
) -> np.ndarray:
    if boxes.shape[1] == 5:  # rotated: polygon intersection, no +1
        inter = intersection_areas(boxes[i], boxes[rest])
        with np.errstate(divide="ignore", invalid="ignore"):
            return (inter / (areas[i] + areas[rest].astype(np.float64) - inter)).astype(
                F
            )
    xx1 = np.maximum(boxes[rest, 0], boxes[i, 0])
    yy1 = np.maximum(boxes[rest, 1], boxes[i, 1])
    xx2 = np.minimum(boxes[rest, 2], boxes[i, 2])
    yy2 = np.minimum(boxes[rest, 3], boxes[i, 3])
    w = np.maximum(xx2 - xx1 + plus, F(0))
    h = np.maximum(yy2 - yy1 + plus, F(0))
    inter = w * h
    with np.errstate(divide="ignore", invalid="ignore"):
        return (inter / (areas[i] + areas[rest] - inter)).astype(F)


def _areas(boxes: np.ndarray, plus: np.float32) -> np.ndarray:
    if boxes.shape[1] == 5:
        return (boxes[:, 2] * boxes[:, 3]).astype(F)
    return (
        (boxes[:, 2] - boxes[:, 0] + plus) * (boxes[:, 3] - boxes[:, 1] + plus)
    ).astype(F)


def nms(
    boxes: np.ndarray,
    order: np.ndarray,
    thresh: float,
    top_n: int = -1,
    legacy_plus_one: bool = True,
) -> np.ndarray:
    """Indices kept from ``order`` (already sorted by decreasing score)."""
    boxes = boxes.astype(F, copy=False)
    plus = F(1) if legacy_plus_one else F(0)
    areas = _areas(boxes, plus)
    keep = []
    order = np.asarray(order, np.int64)
    while order.size:
        if 0 <= top_n <= len(keep):
            break
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        order = rest[_overlaps(boxes, i, rest, areas, plus) <= F(thresh)]
    return np.array(keep, np.int64)


def soft_nms(
    scores: np.ndarray,
    boxes: np.ndarray,
    indices: np.ndarray,
    sigma: float,
    overlap_thresh: float,
    score_thresh: float,
    method: int,
    top_n: int = -1,
    legacy_plus_one: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(kept indices, updated scores): Soft-NMS (method 1 linear, 2 gaussian, else hard)
    over ``indices``, each round keeping the highest current score."""
    boxes = boxes.astype(F, copy=False)
    plus = F(1) if legacy_plus_one else F(0)
    areas = _areas(boxes, plus)
    out = scores.astype(F).copy()
    keep = []
    pending = np.asarray(indices, np.int64).copy()
    while pending.size:
        if 0 <= top_n <= len(keep):
            break
        pos = int(np.argmax(out[pending]))
        i = int(pending[pos])
        keep.append(i)
        pending[0], pending[pos] = pending[pos], pending[0]
        rest = pending[1:]
        ovr = _overlaps(boxes, i, rest, areas, plus)
        if method == 1:
            weight = np.where(
                ovr > F(overlap_thresh), (1.0 - ovr.astype(np.float64)), 1.0
            )
        elif method == 2:
            weight = np.exp(-1.0 * ovr.astype(np.float64) * ovr / float(F(sigma)))
        else:
            weight = np.where(ovr > F(overlap_thresh), 0.0, 1.0)
        out[rest] = out[rest] * weight.astype(F)
        pending = rest[out[rest] >= F(score_thresh)]
    return np.array(keep, np.int64), out
