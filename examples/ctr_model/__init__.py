"""The click-through-rate example (``train.py``; nets in ``_model.py``; the files
written by ``export_nets.py``). Importing this folder as a module gives the benchmarks
``make_step``: a function running one training step."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from train import Trainer, auc, make_step, train  # noqa: E402

__all__ = ["Trainer", "auc", "make_step", "train"]
