"""GenerateProposals (and its old name GenerateProposalsCPP): Faster R-CNN's region
proposals from RPN scores, box deltas and anchors (Caffe2 generate_proposals_op.cc,
after Detectron's generate_proposals.py)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, enforce_cmp, float_tensor
from ._boxes import (
    BBOX_XFORM_CLIP_DEFAULT,
    F,
    clip_boxes,
    filter_boxes,
    transform_rotated,
    transform_upright,
)
from ._nms import nms

ARGS = [
    Arg(
        "spatial_scale",
        float,
        1.0 / 16,
        doc="feature map scale; anchors move by 1 / spatial_scale pixels per position",
    ),
    Arg(
        "pre_nms_topN",
        int,
        6000,
        doc="best-scoring anchors kept before NMS (<= 0: all)",
    ),
    Arg("post_nms_topN", int, 300, doc="proposals kept by NMS per image (<= 0: all)"),
    Arg("nms_thresh", float, 0.7, doc="IoU threshold of NMS"),
    Arg("min_size", float, 16.0, doc="smallest side kept, in unscaled image pixels"),
    Arg("correct_transform_coords", bool, False, doc="Detectron's x2/y2 minus 1"),
    Arg("angle_bound_on", bool, True),
    Arg("angle_bound_lo", int, -90),
    Arg("angle_bound_hi", int, 90),
    Arg("clip_angle_thresh", float, 1.0),
    Arg("legacy_plus_one", bool, True, doc="widths are x2 - x1 + 1"),
]


def _shape(
    scores: TensorShape,
    deltas: TensorShape,
    im_info: TensorShape,
    anchors: TensorShape,
    **kwargs,
):
    f32 = np.dtype(np.float32)
    cols = (
        anchors.dims[1] + 1
        if anchors.dims is not None
        and len(anchors.dims) == 2
        and isinstance(anchors.dims[1], int)
        else 5
    )
    return (TensorShape(("n", cols), f32), TensorShape(("n",), f32))


def all_anchors(anchors: np.ndarray, height: int, width: int, feat_stride: np.float32):
    """(H * W * A, box_dim) anchors shifted to every feature position, rows ordered
    (h, w, a); rotated anchors move only their centre."""
    dim = anchors.shape[1]
    sx = np.arange(width, dtype=F) * feat_stride
    sy = np.arange(height, dtype=F) * feat_stride
    zero = np.zeros((height, width), F)
    cols = [sx[None, :], sy[:, None]] + (
        [sx[None, :], sy[:, None]] if dim == 4 else [zero, zero, zero]
    )
    shift = np.stack(np.broadcast_arrays(*cols), axis=-1).reshape(-1, 1, dim)
    return (anchors[None, :, :].astype(F) + shift).reshape(-1, dim).astype(F)


def proposals_one_image(im_info, anchors_all, deltas, scores, kw):
    a, h, w = scores.shape
    dim = anchors_all.shape[1]
    d = deltas.reshape(a * dim, h * w).T.reshape(h * w * a, dim).astype(F)
    s = scores.reshape(a, h * w).T.reshape(-1).astype(F)
    order = np.argsort(-s, kind="stable")
    pre = kw["pre_nms_topN"]
    if 0 < pre < s.size:
        order = order[:pre]
    unit = (1.0, 1.0, 1.0, 1.0)
    if dim == 4:
        props = transform_upright(
            anchors_all[order],
            d[order],
            unit,
            BBOX_XFORM_CLIP_DEFAULT,
            kw["correct_transform_coords"],
            kw["legacy_plus_one"],
        )
    else:
        props = transform_rotated(
            anchors_all[order],
            d[order],
            unit,
            BBOX_XFORM_CLIP_DEFAULT,
            kw["angle_bound_on"],
            kw["angle_bound_lo"],
            kw["angle_bound_hi"],
        )
    props = clip_boxes(props, int(im_info[0]), int(im_info[1]), kw["clip_angle_thresh"])
    s_sorted = s[order]
    keep = filter_boxes(props, kw["min_size"], im_info, kw["legacy_plus_one"])
    post = kw["post_nms_topN"]
    top_n = post if 0 < post < keep.size else -1
    keep = nms(props, keep, kw["nms_thresh"], top_n, kw["legacy_plus_one"])
    return props[keep], s_sorted[keep]


def generate_proposals(scores, bbox_deltas, im_info, anchors, **kw) -> tuple:
    for x, name in (
        (scores, "scores"),
        (bbox_deltas, "bbox_deltas"),
        (im_info, "im_info"),
        (anchors, "anchors"),
    ):
        float_tensor(x, name, np.dtype(np.float32))
    enforce_cmp(scores.ndim == 4, "scores.ndim() == 4", scores.ndim, 4, blob="scores")
    n, a, h, w = scores.shape
    if anchors.ndim != 2 or anchors.shape[1] not in (4, 5):
        raise ShapeError(
            "box_dim == 4 || box_dim == 5",
            blob="anchors",
            expected="(A, 4) or (A, 5) anchors",
            found=dims(anchors.shape),
        )
    box_dim = anchors.shape[1]
    want = (n, box_dim * a, h, w)
    enforce_cmp(
        bbox_deltas.shape == want,
        "bbox_deltas.dims() == (num_images, box_dim * A, H, W)",
        dims(bbox_deltas.shape),
        dims(want),
        blob="bbox_deltas",
    )
    enforce_cmp(
        im_info.shape == (n, 3),
        "im_info_tensor.dims() == (num_images, 3)",
        dims(im_info.shape),
        dims((n, 3)),
        blob="im_info",
    )
    enforce_cmp(
        anchors.shape == (a, box_dim),
        "anchors.dims() == (A, box_dim)",
        dims(anchors.shape),
        dims((a, box_dim)),
        blob="anchors",
    )
    feat_stride = F(1.0 / float(F(kw["spatial_scale"])))
    anchors_all = all_anchors(anchors, h, w, feat_stride)
    rois, probs = [], []
    for i in range(n):  # images: NMS is per image
        boxes, p = proposals_one_image(
            im_info[i].astype(F), anchors_all, bbox_deltas[i], scores[i], kw
        )
        rois.append(np.concatenate([np.full((len(boxes), 1), i, F), boxes], axis=1))
        probs.append(p)
    out = np.concatenate(rois).astype(F) if rois else np.zeros((0, box_dim + 1), F)
    return (
        out.reshape(-1, box_dim + 1),
        np.concatenate(probs).astype(F) if probs else np.zeros(0, F),
    )


_EXAMPLE = Example(
    {
        "scores": np.array([[[[0.9, 0.1]]]], np.float32),
        "bbox_deltas": np.zeros((1, 4, 1, 2), np.float32),
        "im_info": np.array([[40, 40, 1.0]], np.float32),
        "anchors": np.array([[0, 0, 15, 15]], np.float32),
    },
    {
        "rois": np.array([[0, 0, 0, 16, 16], [0, 16, 0, 32, 16]], np.float32),
        "rois_probs": np.array([0.9, 0.1], np.float32),
    },
    {"spatial_scale": 1 / 16, "min_size": 4.0},
)

_DOC = """Generate region proposals for Faster R-CNN. scores (N, A, H, W) are the RPN's
objectness, bbox_deltas (N, 4A, H, W) its box regression, im_info (N, 3) [height,
width, scale] per image and anchors (A, 4) [x1, y1, x2, y2] the anchor boxes at
position (0, 0). Per image: anchors are shifted to every feature position (by
1 / spatial_scale pixels), the pre_nms_topN best-scoring (all if <= 0) are transformed
by their deltas (as BBoxTransform with unit weights), clipped to the image, those with
a side below min_size * scale or the centre outside the image are dropped, and greedy
NMS at nms_thresh keeps at most post_nms_topN. rois (n, 5) are [image index, x1, y1,
x2, y2] and rois_probs (n,) their scores, image after image. Equal scores keep their
position order (Caffe2's sort left them unordered); with (A, 5) anchors [ctr_x, ctr_y,
w, h, angle] the boxes are rotated (bbox_deltas (N, 5A, H, W), only almost upright
proposals clipped, rotated overlaps in NMS, rois (n, 6)). No gradient (SHOULD_NOT_DO_GRADIENT).

Example: scores=[[[[0.9, 0.1]]]], zero bbox_deltas, im_info=[[40, 40, 1]],
anchors=[[0, 0, 15, 15]] with spatial_scale=1/16, min_size=4 -> rois=[[0, 0, 0, 16,
16], [0, 16, 0, 32, 16]], rois_probs=[0.9, 0.1] (without correct_transform_coords a
box keeps its +1 width on the right)"""

for _name in ("GenerateProposals", "GenerateProposalsCPP"):
    register_cpu_operator(
        _name,
        inputs=["scores", "bbox_deltas", "im_info", "anchors"],
        outputs=["rois", "rois_probs"],
        args=ARGS,
        shape=_shape,
        example=_EXAMPLE,
        doc=_DOC
        if _name == "GenerateProposals"
        else "The old name of GenerateProposals (same kernel and arguments).\n\n"
        + _DOC,
    )(generate_proposals)
    should_not_do_gradient(_name)
