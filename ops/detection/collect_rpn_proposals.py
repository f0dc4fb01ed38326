"""CollectRpnProposals: the first half of CollectAndDistributeFpnRpnProposals (merge
the RPN proposals of every FPN level and keep the best)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .collect_and_distribute_fpn_rpn_proposals import collect


def _shape(*inputs: TensorShape, **kwargs) -> tuple[TensorShape]:
    return (TensorShape(("n", 5), np.dtype(np.float32)),)


@register_cpu_operator(
    "CollectRpnProposals",
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
    outputs=["rois"],
    num_inputs=(2, None),
    args=[
        Arg("rpn_max_level", int, 6),
        Arg("rpn_min_level", int, 2),
        Arg("rpn_post_nms_topN", int, 2000, doc="proposals kept (<= 0: all)"),
    ],
    shape=_shape,
    example=Example(
        {
            "rpn_rois_fpn2": np.array([[0, 0, 0, 15, 15]], np.float32),
            "rpn_rois_fpn3": np.array(
                [[0, 0, 0, 63, 63], [0, 0, 0, 31, 31]], np.float32
            ),
            "rpn_roi_probs_fpn2": np.array([0.5], np.float32),
            "rpn_roi_probs_fpn3": np.array([0.4, 0.7], np.float32),
        },
        {"rois": np.array([[0, 0, 0, 31, 31], [0, 0, 0, 15, 15]], np.float32)},
        {"rpn_min_level": 2, "rpn_max_level": 3, "rpn_post_nms_topN": 2},
    ),
    doc="""Merge the RPN proposals of FPN levels rpn_min_level..rpn_max_level: the inputs
are the (n_i, 5) RoIs [image index, x1, y1, x2, y2] of each level, then their (n_i,)
scores (2 * levels inputs). The RoIs are sorted by decreasing score (ties by position)
and the first rpn_post_nms_topN (all if <= 0) kept. No gradient
(SHOULD_NOT_DO_GRADIENT).

Example: level-2 RoI [0, 0, 0, 15, 15] (score 0.5), level-3 RoIs [0, 0, 0, 63, 63],
[0, 0, 0, 31, 31] (0.4, 0.7) with rpn_post_nms_topN=2 -> rois=[[0, 0, 0, 31, 31],
[0, 0, 0, 15, 15]]""",
)
def collect_rpn_proposals(
    *inputs, rpn_max_level: int, rpn_min_level: int, rpn_post_nms_topN: int
) -> tuple:
    return (collect(inputs, rpn_min_level, rpn_max_level, rpn_post_nms_topN),)


should_not_do_gradient("CollectRpnProposals")
