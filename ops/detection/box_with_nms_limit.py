"""BoxWithNMSLimit: per-class NMS (or Soft-NMS) of detections and a limit on the
detections per image (Caffe2 box_with_nms_limit_op.cc; Detectron's
box_results_with_nms_and_limit)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import enforce_cmp, float_tensor
from ._nms import F, soft_nms
from ._nms import nms as greedy_nms

ARGS = [
    Arg("score_thresh", float, 0.05, doc="keep boxes scoring above this"),
    Arg("nms", float, 0.3, doc="IoU threshold of NMS"),
    Arg("detections_per_im", int, 100, doc="limit over all classes (<= 0: no limit)"),
    Arg("soft_nms_enabled", bool, False),
    Arg(
        "soft_nms_method",
        str,
        "linear",
        check=lambda v: v in ("linear", "gaussian"),
        check_message="Unexpected soft_nms_method",
        expected='"linear" or "gaussian"',
    ),
    Arg("soft_nms_sigma", float, 0.5),
    Arg("soft_nms_min_score_thres", float, 0.001),
    Arg(
        "rotated",
        bool,
        False,
        doc="boxes are [ctr_x, ctr_y, w, h, angle in degrees]",
    ),
    Arg("cls_agnostic_bbox_reg", bool, False, doc="one box per row for every class"),
    Arg("input_boxes_include_bg_cls", bool, True),
    Arg("output_classes_include_bg_cls", bool, True),
    Arg("legacy_plus_one", bool, True, doc="widths are x2 - x1 + 1"),
]


def _shape(
    scores: TensorShape,
    boxes: TensorShape,
    *splits: TensorShape,
    rotated: bool,
    num_outputs: int,
    **kwargs,
):
    f32, i32 = np.dtype(np.float32), np.dtype(np.int32)
    dim = 5 if rotated else 4
    b = splits[0].dims[0] if splits and splits[0].dims else 1
    c = scores.dims[1] if scores.dims is not None and len(scores.dims) >= 2 else "C"
    out = [
        TensorShape(("n",), f32),
        TensorShape(("n", dim), f32),
        TensorShape(("n",), f32),
        TensorShape((b,), f32),
        TensorShape(("n",), i32),
        TensorShape((b, c), i32),
    ]
    return tuple(out[:num_outputs])


def _two_d(x: np.ndarray, name: str, expr: str) -> np.ndarray:
    if x.ndim == 4:
        enforce_cmp(x.shape[2] == 1, f"{expr}.size(2) == 1", x.shape[2], 1, blob=name)
        enforce_cmp(x.shape[3] == 1, f"{expr}.size(3) == 1", x.shape[3], 1, blob=name)
        return x.reshape(x.shape[0], x.shape[1])
    enforce_cmp(x.ndim == 2, f"{expr}.dim() == 2", x.ndim, 2, blob=name)
    return x


@register_cpu_operator(
    "BoxWithNMSLimit",
    inputs=["scores", "boxes", "batch_splits"],
    outputs=["scores", "boxes", "classes", "batch_splits", "keeps", "keeps_size"],
    num_inputs=(2, 3),
    num_outputs=(3, 6),
    args=ARGS,
    shape=_shape,
    example=Example(
        {
            "in_scores": np.array([[0.1, 0.9], [0.2, 0.8], [0.9, 0.01]], np.float32),
            "in_boxes": np.array(
                [
                    [0, 0, 0, 0, 0, 0, 10, 10],
                    [0, 0, 0, 0, 1, 1, 11, 11],
                    [0, 0, 0, 0, 20, 20, 30, 30],
                ],
                np.float32,
            ),
        },
        {
            "scores": np.array([0.9], np.float32),
            "boxes": np.array([[0, 0, 10, 10]], np.float32),
            "classes": np.array([1], np.float32),
        },
    ),
    doc="""Non-maximum suppression per foreground class and a limit on the detections per
image. scores is (N, C) (or (N, C, 1, 1)) with class 0 the background; boxes (N, 4C)
[x1, y1, x2, y2] per class (4(C-1) without the background with
input_boxes_include_bg_cls=false; 4 shared by every class with cls_agnostic_bbox_reg);
batch_splits (float or int) counts the rows of each image (all rows one image without
it). For each image and class j >= 1, boxes scoring above score_thresh go through greedy
NMS at IoU `nms` (boxes sorted by decreasing score, ties in row order; Caffe2's sort
left ties unordered) or, with soft_nms_enabled, Soft-NMS (linear or gaussian score
decay, dropping scores below soft_nms_min_score_thres, the decayed scores being
output). If more than detections_per_im (> 0) boxes remain over all classes, the
highest scoring are kept. Outputs, per image and class in order: scores (n,), boxes
(n, 4), classes (n,) as float (j, or j - 1 with output_classes_include_bg_cls=false);
optionally batch_splits (B,) float, keeps (n,) int32 row indices within the image and
keeps_size (B, C) int32. With `rotated`, boxes have 5 columns [ctr_x, ctr_y, w, h,
angle in degrees] and overlaps are those of the rotated rectangles (area w * h, no +1).
No gradient (SHOULD_NOT_DO_GRADIENT).

Example: in_scores=[[0.1, 0.9], [0.2, 0.8], [0.9, 0.01]], class-1 in_boxes [0, 0, 10, 10],
[1, 1, 11, 11], [20, 20, 30, 30] -> scores=[0.9], boxes=[[0, 0, 10, 10]], classes=[1]
(the second box overlaps the first with IoU 0.71 > 0.3; the third scores 0.01)""",
)
def box_with_nms_limit(
    scores,
    boxes,
    *splits,
    score_thresh: float,
    nms: float,
    detections_per_im: int,
    soft_nms_enabled: bool,
    soft_nms_method: str,
    soft_nms_sigma: float,
    soft_nms_min_score_thres: float,
    rotated: bool,
    cls_agnostic_bbox_reg: bool,
    input_boxes_include_bg_cls: bool,
    output_classes_include_bg_cls: bool,
    legacy_plus_one: bool,
    num_outputs: int,
) -> tuple:
    float_tensor(scores, "tscores", np.dtype(np.float32))
    float_tensor(boxes, "tboxes", np.dtype(np.float32))
    box_dim = 5 if rotated else 4
    s2 = _two_d(scores, "tscores", "tscores")
    b2 = _two_d(boxes, "tboxes", "tboxes")
    n, num_classes = s2.shape
    enforce_cmp(n == b2.shape[0], "N == tboxes.size(0)", n, b2.shape[0], blob="tboxes")
    fg_start = 1 if input_boxes_include_bg_cls else 0

    def box_cls(j: int) -> int:
        return (
            0 if cls_agnostic_bbox_reg else (j if input_boxes_include_bg_cls else j - 1)
        )

    def score_cls(j: int) -> int:
        return j - 1 + fg_start

    n_box_cls = box_cls(num_classes - 1) + 1
    enforce_cmp(
        n_box_cls * box_dim == b2.shape[1],
        "num_boxes_classes * box_dim == tboxes.size(1)",
        n_box_cls * box_dim,
        b2.shape[1],
        blob="tboxes",
    )
    if splits:
        sp = splits[0]
        if not isinstance(sp, np.ndarray) or sp.dtype not in (np.float32, np.int32):
            raise DTypeError(
                "Unsupported type of tensor: " + str(getattr(sp, "dtype", "?")),
                blob="tbatch_splits",
                expected="float32 or int32",
                found=getattr(sp, "dtype", type(sp).__name__),
            )
        enforce_cmp(
            sp.ndim == 1, "tbatch_splits.dim() == 1", sp.ndim, 1, blob="tbatch_splits"
        )
        counts = (
            sp.astype(np.int64)
            if sp.dtype == np.int32
            else np.trunc(sp).astype(np.int64)
        )
        total = sp.sum()
    else:
        counts, total = np.array([n], np.int64), n
    enforce_cmp(total == n, "batch_splits.sum() == N", total, n, blob="tbatch_splits")
    if (counts < 0).any():
        raise EnforceError(
            "batch_splits must be non-negative",
            blob="tbatch_splits",
            expected="counts >= 0",
            found=counts.tolist(),
        )
    method = 1 if soft_nms_method == "linear" else 2
    out_s, out_b, out_c, out_k, per_image = [], [], [], [], []
    keeps_size = np.zeros((len(counts), num_classes), np.int32)
    offset = 0
    for b, count in enumerate(counts.tolist()):  # images
        sc = s2[offset : offset + count].astype(F)
        bx = b2[offset : offset + count].astype(F)
        keeps = [np.zeros(0, np.int64)] * num_classes
        class_scores = {}
        for j in range(1, num_classes):  # classes: NMS is per class
            cur = sc[:, score_cls(j)]
            cur_boxes = bx[:, box_cls(j) * box_dim : (box_cls(j) + 1) * box_dim]
            inds = np.flatnonzero(cur > F(score_thresh))
            if soft_nms_enabled:
                keeps[j], cur = soft_nms(
                    cur,
                    cur_boxes,
                    inds,
                    soft_nms_sigma,
                    nms,
                    soft_nms_min_score_thres,
                    method,
                    -1,
                    legacy_plus_one,
                )
            else:
                order = inds[np.argsort(-cur[inds], kind="stable")]
                keeps[j] = greedy_nms(
                    cur_boxes,
                    order,
                    nms,
                    detections_per_im if detections_per_im > 0 else -1,
                    legacy_plus_one,
                )
            class_scores[j] = cur
        total_keep = sum(len(k) for k in keeps[1:])
        if detections_per_im > 0 and total_keep > detections_per_im:
            cls = np.concatenate(
                [np.full(len(keeps[j]), j) for j in range(1, num_classes)]
            )
            idx = np.concatenate(keeps[1:])
            val = np.concatenate(
                [class_scores[j][keeps[j]] for j in range(1, num_classes)]
            )
            top = np.argsort(-val, kind="stable")[:detections_per_im]
            keeps = [np.zeros(0, np.int64)] + [
                idx[top][cls[top] == j] for j in range(1, num_classes)
            ]
            total_keep = detections_per_im
        per_image.append(total_keep)
        for j in range(1, num_classes):
            k = keeps[j]
            out_s.append(class_scores[j][k])
            out_b.append(bx[k, box_cls(j) * box_dim : (box_cls(j) + 1) * box_dim])
            out_c.append(
                np.full(len(k), j - (0 if output_classes_include_bg_cls else 1), F)
            )
        out_k.extend(keeps)
        keeps_size[b] = [len(k) for k in keeps]
        offset += count
    outs = (
        np.concatenate(out_s).astype(F) if out_s else np.zeros(0, F),
        np.concatenate(out_b).astype(F).reshape(-1, box_dim)
        if out_b
        else np.zeros((0, box_dim), F),
        np.concatenate(out_c).astype(F) if out_c else np.zeros(0, F),
    )
    if num_outputs > 3:
        outs += (np.array(per_image, F),)
    if num_outputs > 4:
        outs += (
            np.concatenate(out_k).astype(np.int32) if out_k else np.zeros(0, np.int32),
            keeps_size,
        )
    return outs[:num_outputs]


should_not_do_gradient("BoxWithNMSLimit")
