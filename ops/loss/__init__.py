"""Losses: AveragedLoss, SigmoidCrossEntropyWithLogits, SquaredL2Distance."""

from __future__ import annotations

from . import averaged_loss  # noqa: F401
from . import sigmoid_cross_entropy_with_logits  # noqa: F401
from . import squared_l2_distance  # noqa: F401
