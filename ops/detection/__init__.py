"""Detection: BBoxTransform, BoxWithNMSLimit, GenerateProposals, RoIAlign, RoIPool, CollectAndDistributeFpnRpnProposals."""

from __future__ import annotations
from . import roi_align  # noqa: F401
from . import bbox_transform  # noqa: F401
from . import box_with_nms_limit  # noqa: F401
from . import generate_proposals  # noqa: F401
from . import roi_pool  # noqa: F401
from . import collect_and_distribute_fpn_rpn_proposals  # noqa: F401
from . import collect_rpn_proposals  # noqa: F401
from . import distribute_fpn_proposals  # noqa: F401
from . import roi_align_rotated  # noqa: F401
