"""Losses: AveragedLoss, SigmoidCrossEntropyWithLogits, SquaredL2Distance."""

from __future__ import annotations

from . import averaged_loss  # noqa: F401
from . import accuracy  # noqa: F401
from . import sigmoid_cross_entropy_with_logits  # noqa: F401
from . import squared_l2_distance  # noqa: F401
from . import cross_entropy  # noqa: F401
from . import label_cross_entropy  # noqa: F401
from . import make_two_class  # noqa: F401
from . import weighted_sigmoid_cross_entropy_with_logits  # noqa: F401
from . import softmax_with_loss  # noqa: F401
from . import spatial_softmax_with_loss  # noqa: F401
