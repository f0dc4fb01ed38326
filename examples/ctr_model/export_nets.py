"""Write the example's nets and plan as text protobuf files beside this script.

    python examples/ctr_model/export_nets.py [--steps N] [--out DIR]

The files are committed; this script regenerates them (a file is rewritten only when
its text changes). The plan runs with the ``caffe2lite`` command:

    caffe2lite run examples/ctr_model/plan.pbtxt

which runs the init net once, ``N`` training iterations (a fresh synthetic batch and
one SGD step each) and one held-out eval batch, then prints the last training loss
and the eval loss.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _model import Config, build_all, build_plan  # noqa: E402

from caffe2lite.protoio import net_to_text  # noqa: E402

FILES = {
    "init": "init_net.pbtxt",
    "data_train": "data_net.pbtxt",
    "train": "train_net.pbtxt",
    "data_eval": "eval_data_net.pbtxt",
    "eval": "eval_net.pbtxt",
}
PLAN_FILE = "plan.pbtxt"
DEFAULT_STEPS = 300


def texts(steps: int = DEFAULT_STEPS, cfg: Config = Config()) -> dict[str, str]:
    """File name -> protobuf text, for every net and the plan."""
    from google.protobuf import text_format

    nets = build_all(cfg)
    out = {FILES[role]: net_to_text(net.Proto()) for role, net in nets.items()}
    out[PLAN_FILE] = text_format.MessageToString(build_plan(nets, steps).Proto())
    return out


def export(folder: Path = HERE, steps: int = DEFAULT_STEPS) -> list[str]:
    """Write the files into ``folder``; returns the names of those that changed."""
    folder.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in texts(steps).items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                        help=f"training iterations in the plan (default {DEFAULT_STEPS})")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write to")
    args = parser.parse_args(argv)
    changed = export(args.out, args.steps)
    print(f"{len(FILES) + 1} files in {args.out.name}/, {len(changed)} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
