"""BBoxTransform: apply per-class box regression deltas to proposals and clip to the
image (Caffe2 bbox_transform_op.cc)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import enforce_cmp, enforce_that, float_tensor
from ._boxes import BBOX_XFORM_CLIP_DEFAULT, F, transform_rotated, transform_upright

ARGS = [
    Arg(
        "weights",
        "floats",
        (1.0, 1.0, 1.0, 1.0),
        doc="[wx, wy, ww, wh] dividing the deltas",
        check=lambda v: len(v) == 4,
        check_message="weights size must be 4.",
        expected="4 weights",
    ),
    Arg("apply_scale", bool, True, doc="scale the boxes back to the input image scale"),
    Arg("correct_transform_coords", bool, False, doc="Detectron's x2/y2 minus 1"),
    Arg("rotated", bool, False, doc="boxes are [ctr_x, ctr_y, w, h, angle]"),
    Arg("angle_bound_on", bool, True),
    Arg("angle_bound_lo", int, -90),
    Arg("angle_bound_hi", int, 90),
    Arg(
        "clip_angle_thresh",
        float,
        1.0,
        doc="clip rotated boxes within this many degrees of upright",
    ),
]


def _shape(
    rois: TensorShape,
    deltas: TensorShape,
    im_info: TensorShape,
    *,
    num_outputs: int,
    **kwargs,
):
    out = [TensorShape(deltas.dims, np.dtype(np.float32))]
    if num_outputs > 1:
        b = (
            im_info.dims[0]
            if im_info.dims is not None and len(im_info.dims) == 2
            else "B"
        )
        out.append(TensorShape((b,), np.dtype(np.float32)))
    return tuple(out)


@register_cpu_operator(
    "BBoxTransform",
    inputs=["rois", "deltas", "im_info"],
    outputs=["box_out", "roi_batch_splits"],
    num_outputs=(1, 2),
    args=ARGS,
    shape=_shape,
    example=Example(
        {
            "rois": np.array([[0, 0, 0, 9, 9], [0, 5, 5, 14, 14]], np.float32),
            "deltas": np.array(
                [[0.1, 0.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.0]], np.float32
            ),
            "im_info": np.array([[20, 20, 1.0]], np.float32),
        },
        {
            "box_out": np.array(
                [[1, 0, 11, 10], [1.7563934, 5, 18.243607, 15]], np.float32
            ),
            "roi_batch_splits": np.array([2], np.float32),
        },
    ),
    doc="""Transform proposal boxes by bounding-box regression deltas, one box per class,
and clip them to the image. rois is (M, 4) [x1, y1, x2, y2] or (M, 5) with a leading
batch index (rows of one image together, images in increasing order); deltas (M, 4K)
holds [dx, dy, dw, dh] per class (divided by `weights`, dw and dh capped at
log(1000/16)); im_info (B, 3) is [height, width, scale] per image. Boxes are divided by
the image scale, transformed (width = x2 - x1 + 1, centre moved by dx * width, size
multiplied by exp(dw)), clipped to [0, width - 1] x [0, height - 1] of the unscaled
image (int(height / scale + 0.5)), and multiplied by the scale again when
apply_scale. With `rotated`, boxes and deltas have 5 columns [ctr_x, ctr_y, w, h,
angle in degrees] and da in radians; only almost upright boxes are clipped. box_out
has deltas' shape; roi_batch_splits counts the RoIs of each image (float32). No
gradient (SHOULD_NOT_DO_GRADIENT).

Example: rois=[[0, 0, 0, 9, 9], [0, 5, 5, 14, 14]], deltas=[[0.1, 0, 0, 0],
[0, 0, 0.5, 0]], im_info=[[20, 20, 1]] -> box_out=[[1, 0, 11, 10], [1.7563934, 5,
18.243607, 15]], roi_batch_splits=[2]""",
)
def bbox_transform(
    rois,
    deltas,
    im_info,
    *,
    weights,
    apply_scale: bool,
    correct_transform_coords: bool,
    rotated: bool,
    angle_bound_on: bool,
    angle_bound_lo: int,
    angle_bound_hi: int,
    clip_angle_thresh: float,
    num_outputs: int,
) -> tuple:
    for x, name in ((rois, "rois"), (deltas, "deltas"), (im_info, "im_info")):
        float_tensor(x, name, np.dtype(np.float32))
    box_dim = 5 if rotated else 4
    enforce_cmp(rois.ndim == 2, "roi_in.ndim() == 2", rois.ndim, 2, blob="rois")
    n = rois.shape[0]
    enforce_that(
        rois.shape[1] in (box_dim, box_dim + 1),
        "roi_in.dim32(1) == box_dim || roi_in.dim32(1) == box_dim + 1",
        blob="rois",
        expected=f"{box_dim} or {box_dim + 1} columns",
        found=rois.shape[1],
    )
    enforce_cmp(deltas.ndim == 2, "delta_in.ndim() == 2", deltas.ndim, 2, blob="deltas")
    enforce_cmp(
        deltas.shape[0] == n,
        "delta_in.dim32(0) == N",
        deltas.shape[0],
        n,
        blob="deltas",
    )
    enforce_cmp(
        deltas.shape[1] % box_dim == 0,
        "delta_in.dim32(1) % box_dim == 0",
        deltas.shape[1] % box_dim,
        0,
        blob="deltas",
    )
    k = deltas.shape[1] // box_dim
    enforce_cmp(
        im_info.ndim == 2, "iminfo_in.ndim() == 2", im_info.ndim, 2, blob="im_info"
    )
    enforce_cmp(
        im_info.ndim == 2 and im_info.shape[1] == 3,
        "iminfo_in.dim32(1) == 3",
        im_info.shape[-1],
        3,
        blob="im_info",
    )
    batch = im_info.shape[0]
    if rois.shape[1] == box_dim:
        enforce_cmp(batch == 1, "batch_size == 1", batch, 1, blob="im_info")
        counts = np.array([n], np.int64)
    else:
        ids = np.trunc(rois[:, 0]).astype(np.int64) if n else np.zeros(0, np.int64)
        if n and (ids.max() >= batch or ids.min() < 0):
            bad = int(ids.max() if ids.max() >= batch else ids.min())
            raise EnforceError(
                f"roi_batch_id < batch_size. {bad} vs {batch}",
                blob="rois",
                expected=f"batch ids in [0, {batch})",
                found=bad,
            )
        counts = np.bincount(ids, minlength=batch)
    # Caffe2 takes the rows in blocks of each image's count, in order of position
    row_image = np.repeat(np.arange(batch), counts)
    info = im_info.astype(F)
    scale_before = info[row_image, 2]
    scale_after = scale_before if apply_scale else np.ones_like(scale_before)
    with np.errstate(divide="ignore", invalid="ignore"):
        img_h = (info[:, 0] / info[:, 2]).astype(np.float64) + 0.5
        img_w = (info[:, 1] / info[:, 2]).astype(np.float64) + 0.5
    boxes = rois[:, -box_dim:].astype(F)
    boxes[:, :4] = boxes[:, :4] / scale_before[:, None]
    out = np.empty_like(deltas, dtype=F)
    hs, ws = img_h.astype(np.int64)[row_image], img_w.astype(np.int64)[row_image]
    for c in range(k):  # one pass per class column block (K is small)
        d = deltas[:, c * box_dim : (c + 1) * box_dim].astype(F)
        if rotated:
            t = transform_rotated(
                boxes,
                d,
                weights,
                BBOX_XFORM_CLIP_DEFAULT,
                angle_bound_on,
                angle_bound_lo,
                angle_bound_hi,
            )
        else:
            t = transform_upright(
                boxes, d, weights, BBOX_XFORM_CLIP_DEFAULT, correct_transform_coords
            )
        t = _clip_rows(t, hs, ws, clip_angle_thresh)
        t[:, :4] = t[:, :4] * scale_after[:, None]
        out[:, c * box_dim : (c + 1) * box_dim] = t
    outs = (out,)
    if num_outputs > 1:
        outs += (counts.astype(np.float32),)
    return outs


def _clip_rows(
    t: np.ndarray, hs: np.ndarray, ws: np.ndarray, thresh: float
) -> np.ndarray:
    """clip_boxes with each row's own image size."""
    if t.shape[1] == 4:
        limits = np.stack([ws - 1, hs - 1, ws - 1, hs - 1], axis=1).astype(np.float64)
        return np.maximum(np.minimum(t, limits), 0).astype(F)
    out = t.copy()
    up = np.abs(t[:, 4]) <= F(thresh)
    if up.any():
        b = t[up].astype(np.float64)
        half_w = (b[:, 2].astype(F) - F(1)) / 2.0
        half_h = (b[:, 3].astype(F) - F(1)) / 2.0
        xyxy = np.stack(
            [b[:, 0] - half_w, b[:, 1] - half_h, b[:, 0] + half_w, b[:, 1] + half_h],
            axis=1,
        ).astype(F)
        c = _clip_rows(xyxy, hs[up], ws[up], thresh).astype(np.float64)
        out[up, 0] = ((c[:, 0] + c[:, 2]) / 2.0).astype(F)
        out[up, 1] = ((c[:, 1] + c[:, 3]) / 2.0).astype(F)
        out[up, 2] = (c[:, 2] - c[:, 0] + 1.0).astype(F)
        out[up, 3] = (c[:, 3] - c[:, 1] + 1.0).astype(F)
    return out


should_not_do_gradient("BBoxTransform")
