"""DistributeFpnProposals: the second half of CollectAndDistributeFpnRpnProposals
(send each RoI to the FPN level its size maps to)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, enforce_cmp, float_tensor
from .collect_and_distribute_fpn_rpn_proposals import F, distribute


def _shape(rois: TensorShape, *, num_outputs: int, **kwargs):
    f32 = np.dtype(np.float32)
    out = [TensorShape((f"n{i}", 5), f32) for i in range(num_outputs - 1)]
    return tuple(out + [TensorShape(("n",), np.dtype(np.int32))])


@register_cpu_operator(
    "DistributeFpnProposals",
    inputs=["rois"],
    outputs=["rois_fpn2", "rois_fpn3", "rois_fpn4", "rois_fpn5", "rois_idx_restore"],
    num_outputs=(2, None),
    args=[
        Arg("roi_canonical_scale", int, 224),
        Arg("roi_canonical_level", int, 4),
        Arg("roi_max_level", int, 5),
        Arg("roi_min_level", int, 2),
        Arg("legacy_plus_one", bool, True, doc="widths are x2 - x1 + 1"),
    ],
    shape=_shape,
    example=Example(
        {"rois": np.array([[0, 0, 0, 63, 63], [0, 0, 0, 31, 31]], np.float32)},
        {
            "rois_fpn2": np.array([[0, 0, 0, 31, 31]], np.float32),
            "rois_fpn3": np.array([[0, 0, 0, 63, 63]], np.float32),
            "rois_idx_restore": np.array([1, 0], np.int32),
        },
        {
            "roi_min_level": 2,
            "roi_max_level": 3,
            "roi_canonical_scale": 64,
            "roi_canonical_level": 3,
        },
    ),
    doc="""Distribute RoIs ((n, 5) [image index, x1, y1, x2, y2], or (n, 4) taken as
image 0) to the FPN levels roi_min_level..roi_max_level: level floor(canonical_level +
log2(sqrt(area) / canonical_scale + 1e-6)), clipped. One (n_l, 5) output per level,
then rois_idx_restore (int32), the permutation that restores the input order from the
concatenated level outputs (levels + 1 outputs). No gradient (SHOULD_NOT_DO_GRADIENT).

Example: rois=[[0, 0, 0, 63, 63], [0, 0, 0, 31, 31]] with levels 2..3, canonical scale
64 at level 3 -> rois_fpn2=[[0, 0, 0, 31, 31]], rois_fpn3=[[0, 0, 0, 63, 63]],
rois_idx_restore=[1, 0]""",
)
def distribute_fpn_proposals(
    rois,
    *,
    roi_canonical_scale: int,
    roi_canonical_level: int,
    roi_max_level: int,
    roi_min_level: int,
    legacy_plus_one: bool,
    num_outputs: int,
) -> tuple:
    num_roi = roi_max_level - roi_min_level + 1
    enforce_cmp(
        num_outputs == num_roi + 1,
        "OutputSize() == num_roi_lvls + 1",
        num_outputs,
        num_roi + 1,
    )
    float_tensor(rois, "rois", np.dtype(np.float32))
    if rois.ndim != 2 or rois.shape[1] not in (4, 5):
        raise ShapeError(
            "dim_rois == 4 || dim_rois == 5",
            blob="rois",
            expected="(n, 4) or (n, 5)",
            found=dims(rois.shape),
        )
    full = np.zeros((rois.shape[0], 5), F)
    full[:, 5 - rois.shape[1] :] = rois
    return distribute(
        full,
        roi_min_level,
        roi_max_level,
        roi_canonical_scale,
        roi_canonical_level,
        legacy_plus_one,
    )


should_not_do_gradient("DistributeFpnProposals")
