"""Train the click-through-rate example through the Python API, then evaluate it.

    python examples/ctr_model/train.py [--steps N] [--eval-batches K]

Builds the nets of ``_model.py``, runs the init net once, then ``--steps`` times a
fresh synthetic batch and one SGD step, and finally scores held-out batches with the
eval net (no dropout, same parameters). Prints the training loss at the start and at
the end, the eval loss and the eval AUC.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _model import Config, build_all  # noqa: E402

from caffe2lite import workspace  # noqa: E402

WORKSPACE = "ctr_model"


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve from ranks (Mann-Whitney U), ties get average ranks.

    >>> auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    labels = np.asarray(labels).reshape(-1).astype(bool)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("AUC needs both clicked and non-clicked examples")
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(scores.size)
    ranks[order] = np.arange(1, scores.size + 1)
    _, tie_group, counts = np.unique(scores, return_inverse=True, return_counts=True)
    rank_sums = np.bincount(tie_group, weights=ranks)
    ranks = (rank_sums / counts)[tie_group]  # the average rank within each tie group
    u = ranks[labels].sum() - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


class Trainer:
    """The example's nets created in their own workspace, ready to step."""

    def __init__(self, cfg: Config = Config()) -> None:
        self.cfg = cfg
        self.nets = build_all(cfg)
        previous = workspace.CurrentWorkspace()
        workspace.SwitchWorkspace(WORKSPACE, True)
        try:
            workspace.ResetWorkspace()
            workspace.RunNetOnce(self.nets["init"])
            for role in ("data_train", "train", "data_eval", "eval"):
                workspace.CreateNet(self.nets[role])
        finally:
            workspace.SwitchWorkspace(previous)

    def _in_workspace(self, fn: Callable[[], object]) -> object:
        previous = workspace.CurrentWorkspace()
        workspace.SwitchWorkspace(WORKSPACE)
        try:
            return fn()
        finally:
            workspace.SwitchWorkspace(previous)

    def step(self) -> float:
        """One fresh batch and one SGD step; returns the batch's loss."""
        def run() -> float:
            workspace.RunNet(self.nets["data_train"])
            workspace.RunNet(self.nets["train"])
            return float(workspace.FetchBlob("loss"))
        return float(self._in_workspace(run))  # type: ignore[arg-type]

    def evaluate(self, batches: int) -> tuple[float, float]:
        """(mean eval loss, AUC) over ``batches`` held-out batches."""
        def run() -> tuple[float, float]:
            losses, labels, probs = [], [], []
            for _ in range(batches):
                workspace.RunNet(self.nets["data_eval"])
                workspace.RunNet(self.nets["eval"])
                losses.append(float(workspace.FetchBlob("eval_loss")))
                labels.append(workspace.FetchBlob("eval_label"))
                probs.append(workspace.FetchBlob("eval_prob"))
            score = auc(np.concatenate(labels), np.concatenate(probs))
            return float(np.mean(losses)), score
        return self._in_workspace(run)  # type: ignore[return-value]


def make_step() -> Callable[[], float]:
    """A zero-argument function running one training step (used by the benchmarks)."""
    return Trainer().step


def train(steps: int, eval_batches: int = 8, cfg: Config = Config()) -> dict[str, float]:
    """Train for ``steps`` steps, then evaluate. ``first_loss`` is the loss of the
    first batch (before any update), ``last_loss`` the mean over the last 10 steps."""
    trainer = Trainer(cfg)
    losses = [trainer.step() for _ in range(steps)]
    eval_loss, eval_auc = trainer.evaluate(eval_batches)
    return {"first_loss": losses[0], "last_loss": float(np.mean(losses[-10:])),
            "eval_loss": eval_loss, "eval_auc": eval_auc}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300,
                        help="training steps (default 300)")
    parser.add_argument("--eval-batches", type=int, default=8,
                        help="held-out batches to evaluate on (default 8)")
    args = parser.parse_args(argv)
    result = train(args.steps, args.eval_batches)
    print(f"training loss: {result['first_loss']:.4f} on the first batch, "
          f"{result['last_loss']:.4f} over the last 10 of {args.steps} steps")
    print(f"eval loss: {result['eval_loss']:.4f}")
    print(f"eval AUC: {result['eval_auc']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
