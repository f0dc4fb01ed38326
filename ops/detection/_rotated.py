"""Intersection of rotated boxes [ctr_x, ctr_y, w, h, angle (degrees, counter-clockwise)]
for rotated NMS (Caffe2's rotated_rect_intersection in generate_proposals_op_util_nms.h):
the corners of each rectangle, the points where their edges cross and the corners of
each inside the other, and the area of the convex polygon those points span. One box
against many, vectorised over the many. Not an operator module."""

from __future__ import annotations

import numpy as np

F = np.float32
DEG = 0.01745329251  # pi / 180 as Caffe2 wrote it


def corners(boxes: np.ndarray) -> np.ndarray:
    """(M, 4, 2) float32 corners, in Caffe2's order (its angle is clockwise, hence -a)."""
    b = boxes.astype(F)
    theta = (-b[:, 4]).astype(np.float64) * DEG
    cb = (np.cos(theta) * 0.5).astype(F)
    sa = (np.sin(theta) * 0.5).astype(F)
    cx, cy, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    p0 = np.stack([cx - sa * h - cb * w, cy + cb * h - sa * w], -1)
    p1 = np.stack([cx + sa * h - cb * w, cy - cb * h - sa * w], -1)
    c = np.stack([cx, cy], -1)
    return np.stack([p0, p1, 2 * c - p0, 2 * c - p1], 1).astype(F)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 1] - b[..., 0] * a[..., 1]


def _inside(points: np.ndarray, rect: np.ndarray) -> np.ndarray:
    """Which of points (M, 4, 2) lie in rect (M, 4, 2) by projections on two edges."""
    ab = rect[:, 1] - rect[:, 0]
    da = rect[:, 0] - rect[:, 3]
    ap = points - rect[:, None, 0]
    along_ab = (ap * ab[:, None]).sum(-1)
    along_ad = -(ap * da[:, None]).sum(-1)
    return (
        (along_ab >= 0)
        & (along_ad >= 0)
        & (along_ab <= (ab * ab).sum(-1)[:, None])
        & (along_ad <= (da * da).sum(-1)[:, None])
    )


def intersection_areas(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Area of box ∩ others[j] for every j (float64)."""
    m = len(others)
    if m == 0:
        return np.zeros(0)
    p = np.broadcast_to(corners(box[None]), (m, 4, 2)).astype(np.float64)
    q = corners(others).astype(np.float64)
    same = (np.abs(p - q) <= 1e-5).all(axis=(1, 2))
    v1 = np.roll(p, -1, axis=1) - p  # (M, 4, 2) edges of the box
    v2 = np.roll(q, -1, axis=1) - q
    # every edge pair (i of the box, j of the other)
    e1, e2 = v1[:, :, None], v2[:, None, :]
    det = _cross(e2, e1)
    d = q[:, None, :] - p[:, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = _cross(e2, d) / det
        t2 = _cross(e1, d) / det
    hit = (np.abs(det) > 1e-14) & (t1 >= 0) & (t1 <= 1) & (t2 >= 0) & (t2 <= 1)
    crossing = p[:, :, None] + np.where(hit, t1, 0.0)[..., None] * e1  # (M, 4, 4, 2)
    pts = np.concatenate([crossing.reshape(m, 16, 2), p, q], axis=1)  # (M, 24, 2)
    ok = np.concatenate([hit.reshape(m, 16), _inside(p, q), _inside(q, p)], axis=1)
    count = ok.sum(1)
    # the points span a convex polygon: order them by angle round their mean
    mean = np.where(ok[..., None], pts, 0.0).sum(1) / np.maximum(count, 1)[:, None]
    rel = pts - mean[:, None]
    ang = np.where(ok, np.arctan2(rel[..., 1], rel[..., 0]), np.inf)
    order = np.argsort(ang, axis=1, kind="stable")
    rel = np.take_along_axis(rel, order[..., None], axis=1)
    ok = np.take_along_axis(ok, order, axis=1)
    first = rel[:, :1]
    rel = np.where(
        ok[..., None], rel, first
    )  # padding repeats the first point: no area
    area = 0.5 * np.abs(_cross(rel, np.roll(rel, -1, axis=1)).sum(1))
    area = np.where(count > 2, area, 0.0)
    full = np.minimum(box[2] * box[3], others[:, 2] * others[:, 3]).astype(np.float64)
    return np.where(same, full, area)
