"""CollectAndDistributeFpnRpnProposals: merge the RPN proposals of every FPN level,
keep the best, and distribute them to the RoI levels their sizes map to (Caffe2
collect_and_distribute_fpn_rpn_proposals_op.cc; Detectron's FPN heuristic)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import enforce_cmp, float_tensor

F = np.float32

ARGS = [
    Arg("roi_canonical_scale", int, 224, doc="FPN.ROI_CANONICAL_SCALE"),
    Arg("roi_canonical_level", int, 4, doc="FPN.ROI_CANONICAL_LEVEL"),
    Arg("roi_max_level", int, 5),
    Arg("roi_min_level", int, 2),
    Arg("rpn_max_level", int, 6),
    Arg("rpn_min_level", int, 2),
    Arg(
        "rpn_post_nms_topN", int, 2000, doc="proposals kept over all levels (<= 0: all)"
    ),
    Arg("legacy_plus_one", bool, True, doc="widths are x2 - x1 + 1"),
]


def _shape(
    *inputs: TensorShape,
    roi_max_level: int,
    roi_min_level: int,
    num_outputs: int,
    **kwargs,
):
    f32 = np.dtype(np.float32)
    out = [TensorShape(("n", 5), f32)]
    out += [TensorShape((f"n{i}", 5), f32) for i in range(num_outputs - 2)]
    return tuple(out + [TensorShape(("n",), np.dtype(np.int32))])


def map_to_levels(
    boxes: np.ndarray, k_min: int, k_max: int, s0: int, lvl0: int, plus_one: bool
) -> np.ndarray:
    """floor(lvl0 + log2(sqrt(area) / s0 + 1e-6)) clipped to [k_min, k_max], in float32."""
    plus = F(1) if plus_one else F(0)
    area = (boxes[:, 2] - boxes[:, 0] + plus) * (boxes[:, 3] - boxes[:, 1] + plus)
    if (area < 0).any():
        i = int(np.argmax(area < 0))
        raise EnforceError(
            f"Negative areas founds: {boxes[i].tolist()}",
            blob="rois",
            expected="boxes with x2 >= x1 - 1 and y2 >= y1 - 1",
            found=boxes[i].tolist(),
        )
    s = np.sqrt(area.astype(F))
    lvl = np.floor(F(lvl0) + np.log(s / F(s0) + F(1e-6)) / F(np.log(2.0)))
    return np.clip(lvl, k_min, k_max).astype(np.int64)


def collect(inputs, rpn_min_level: int, rpn_max_level: int, top_n: int) -> np.ndarray:
    """The RPN RoIs of every level (inputs: RoIs per level, then scores per level),
    sorted by decreasing score (ties by position), the first top_n (all if <= 0)."""
    num_rpn = rpn_max_level - rpn_min_level + 1
    enforce_cmp(
        len(inputs) == 2 * num_rpn,
        "InputSize() == 2 * num_rpn_lvls",
        len(inputs),
        2 * num_rpn,
    )
    rois_in, scores_in = inputs[:num_rpn], inputs[num_rpn:]
    for i, (r, s) in enumerate(zip(rois_in, scores_in)):
        level = rpn_min_level + i
        float_tensor(r, f"rpn_rois_fpn{level}", np.dtype(np.float32))
        float_tensor(s, f"rpn_roi_probs_fpn{level}", np.dtype(np.float32))
        if r.ndim != 2 or r.shape[1] != 5:
            raise EnforceError(
                "RPN RoIs must be (n, 5)",
                blob=f"rpn_rois_fpn{level}",
                expected="(n, 5)",
                found=list(r.shape),
            )
        n_scores = s.shape[0] if s.ndim else 1
        enforce_cmp(
            n_scores == r.shape[0],
            "score_in.size(0) == n",
            n_scores,
            r.shape[0],
            blob=f"rpn_roi_probs_fpn{level}",
        )
        if s.size < r.shape[0]:
            raise EnforceError(
                "fewer scores than RoIs",
                blob=f"rpn_roi_probs_fpn{level}",
                expected=f"at least {r.shape[0]} scores",
                found=s.size,
            )
    rois = np.concatenate([r.reshape(-1, 5) for r in rois_in]).astype(F)
    scores = np.concatenate(
        [s.reshape(-1)[: r.shape[0]] for r, s in zip(rois_in, scores_in)]
    )
    order = np.argsort(-scores.astype(np.float64), kind="stable")
    if 0 < top_n < len(order):
        order = order[:top_n]
    return rois[order]


def distribute(
    rois: np.ndarray, lo: int, hi: int, scale: int, level: int, plus_one: bool
) -> tuple:
    """The (n, 5) RoIs of each level lo..hi, and the int32 permutation restoring the
    input order from their concatenation."""
    lvls = map_to_levels(rois[:, 1:5], lo, hi, scale, level, plus_one)
    per_level = [np.flatnonzero(lvls == lvl) for lvl in range(lo, hi + 1)]
    restore = np.argsort(np.concatenate(per_level), kind="stable").astype(np.int32)
    return tuple(rois[idx] for idx in per_level) + (restore,)


@register_cpu_operator(
    "CollectAndDistributeFpnRpnProposals",
    inputs=[
        "rpn_rois_fpn2",
        "rpn_rois_fpn3",
        "rpn_rois_fpn4",
        "rpn_rois_fpn5",
        "rpn_rois_fpn6",
        "rpn_roi_probs_fpn2",
        "rpn_roi_probs_fpn3",
        "rpn_roi_probs_fpn4",
        "rpn_roi_probs_fpn5",
        "rpn_roi_probs_fpn6",
    ],
    outputs=[
        "rois",
        "rois_fpn2",
        "rois_fpn3",
        "rois_fpn4",
        "rois_fpn5",
        "rois_idx_restore",
    ],
    num_inputs=(2, None),
    num_outputs=(3, None),
    args=ARGS,
    shape=_shape,
    example=Example(
        {
            "rpn_rois_fpn2": np.array([[0, 0, 0, 15, 15]], np.float32),
            "rpn_rois_fpn3": np.array(
                [[0, 0, 0, 63, 63], [0, 0, 0, 31, 31]], np.float32
            ),
            "rpn_roi_probs_fpn2": np.array([0.5], np.float32),
            "rpn_roi_probs_fpn3": np.array([0.9, 0.7], np.float32),
        },
        {
            "rois": np.array(
                [[0, 0, 0, 63, 63], [0, 0, 0, 31, 31], [0, 0, 0, 15, 15]], np.float32
            ),
            "rois_fpn2": np.array([[0, 0, 0, 31, 31], [0, 0, 0, 15, 15]], np.float32),
            "rois_fpn3": np.array([[0, 0, 0, 63, 63]], np.float32),
            "rois_idx_restore": np.array([2, 0, 1], np.int32),
        },
        {
            "rpn_min_level": 2,
            "rpn_max_level": 3,
            "roi_min_level": 2,
            "roi_max_level": 3,
            "roi_canonical_scale": 64,
            "roi_canonical_level": 3,
        },
    ),
    doc="""Merge the RPN proposals of FPN levels rpn_min_level..rpn_max_level and
distribute them to RoI levels roi_min_level..roi_max_level (inference only). Inputs:
the (n_i, 5) RoIs [image index, x1, y1, x2, y2] of each RPN level, then their (n_i,)
scores (2 * levels inputs). The RoIs are sorted by decreasing score (ties by position)
and the first rpn_post_nms_topN (all if <= 0) kept: output `rois`. Each goes to level
floor(canonical_level + log2(sqrt(area) / canonical_scale + 1e-6)) clipped to the RoI
levels (area (x2 - x1 + 1)(y2 - y1 + 1)); one output per RoI level holds its RoIs in
`rois` order, and the last output, rois_idx_restore (int32), is the permutation that
restores `rois` order from the concatenated level outputs. Outputs: rois, one per RoI
level, rois_idx_restore (levels + 2). No gradient (SHOULD_NOT_DO_GRADIENT).

Example: level-2 RoI [0, 0, 0, 15, 15] (score 0.5) and level-3 RoIs [0, 0, 0, 63, 63],
[0, 0, 0, 31, 31] (0.9, 0.7) with RPN and RoI levels 2..3, canonical scale 64 at level
3 -> rois sorted by score; rois_fpn2 = the 32- and 16-pixel boxes, rois_fpn3 = the
64-pixel box, rois_idx_restore=[2, 0, 1]""",
)
def collect_and_distribute_fpn_rpn_proposals(
    *inputs,
    roi_canonical_scale: int,
    roi_canonical_level: int,
    roi_max_level: int,
    roi_min_level: int,
    rpn_max_level: int,
    rpn_min_level: int,
    rpn_post_nms_topN: int,
    legacy_plus_one: bool,
    num_outputs: int,
) -> tuple:
    num_rpn = rpn_max_level - rpn_min_level + 1
    enforce_cmp(
        len(inputs) == 2 * num_rpn,
        "InputSize() == 2 * num_rpn_lvls",
        len(inputs),
        2 * num_rpn,
    )
    num_roi = roi_max_level - roi_min_level + 1
    enforce_cmp(
        num_outputs == num_roi + 2,
        "OutputSize() == num_roi_lvls + 2",
        num_outputs,
        num_roi + 2,
    )
    rois = collect(inputs, rpn_min_level, rpn_max_level, rpn_post_nms_topN)
    return (rois,) + distribute(
        rois,
        roi_min_level,
        roi_max_level,
        roi_canonical_scale,
        roi_canonical_level,
        legacy_plus_one,
    )


should_not_do_gradient("CollectAndDistributeFpnRpnProposals")
