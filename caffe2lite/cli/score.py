"""``caffe2lite score``: score a net over a parquet dataset on Dask.

::

    caffe2lite score NET --init NET --data DATASET.parquet --scheduler ADDRESS|local
                     [--input BLOB=COLUMN[,COLUMN...]]... [--output BLOB]...
                     [--seed S] [--workers N] --out OUT.parquet

``--scheduler local`` starts a LocalCluster of ``--workers`` processes (default: one
per CPU, one thread each, keeping freed memory mapped:
:func:`caffe2lite.distributed.dask_score.local_cluster`) on loopback for the run; an address (``tcp://host:8786``)
uses a running Dask scheduler. ``OUT.parquet`` is written by Dask as a parquet
dataset (a directory, one file per partition) that ``pandas.read_parquet`` and
``dask.dataframe.read_parquet`` read back. The work is done by
:func:`caffe2lite.dask.score`; this module only wires the command line to it.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from caffe2lite.cli.common import EXIT_OK, UsageError
from caffe2lite.errors import Caffe2LiteError
from caffe2lite.io.protoio import load_net


def _inputs(pairs: list[str]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for pair in pairs:
        blob, sep, columns = pair.partition("=")
        if not sep or not blob or not columns:
            raise UsageError(f"--input expects BLOB=COLUMN[,COLUMN...], got '{pair}'")
        names = columns.split(",")
        mapping[blob] = names[0] if len(names) == 1 else names
    return mapping


def add_score_parser(sub: Any) -> None:
    """Add the ``score`` subcommand to the subparsers ``sub``."""
    score = sub.add_parser(
        "score",
        help="score a net over a parquet dataset on Dask (the dask extra)",
        description="Run the init net once per Dask worker, then the net on every "
        "partition of a parquet dataset, and write the outputs as parquet. A "
        "list<int64> column C feeds blobs C (ids) and C_lengths; numeric columns "
        "feed float blobs of the same name; an (N, k) output becomes columns "
        "NAME_0..NAME_{k-1}.",
    )
    score.add_argument("net", metavar="NET", help="the predict NetDef (.pb, .pbtxt)")
    score.add_argument(
        "--init",
        metavar="NET",
        required=True,
        help="NetDef run once per worker before NET",
    )
    score.add_argument(
        "--data",
        metavar="DATASET.parquet",
        required=True,
        help="parquet file or dataset directory",
    )
    score.add_argument(
        "--scheduler",
        metavar="ADDRESS|local",
        required=True,
        help="a Dask scheduler address, or 'local' for a LocalCluster",
    )
    score.add_argument(
        "--input",
        metavar="BLOB=COLUMN[,COLUMN...]",
        action="append",
        default=[],
        help="feed BLOB from COLUMN (several numeric "
        "columns stack into one (N, k) blob); repeatable",
    )
    score.add_argument(
        "--output",
        metavar="BLOB",
        action="append",
        default=[],
        help="output blob (repeatable; default: the net's external "
        "outputs, else its last op's outputs)",
    )
    score.add_argument(
        "--seed", metavar="S", type=int, help="give op i the seed S+i unless it has one"
    )
    score.add_argument(
        "--workers",
        metavar="N",
        type=int,
        help="with --scheduler local: worker processes (default: CPUs)",
    )
    score.add_argument(
        "--out", metavar="OUT.parquet", required=True, help="where to write the outputs"
    )
    score.set_defaults(handler=score_command)


def score_command(args: argparse.Namespace, out: Any) -> int:
    """Run ``caffe2lite score``."""
    from caffe2lite.distributed.dask_score import local_cluster, require_dask, score

    dd = require_dask()
    from distributed import Client

    predict, init = load_net(args.net), load_net(args.init)
    inputs = _inputs(args.input)
    cluster = None
    if args.scheduler == "local":
        cluster = local_cluster(args.workers or os.cpu_count() or 1)
        address: Any = cluster
    else:
        address = args.scheduler
    try:
        with Client(address) as client:
            # Arrow dtypes: list columns stay lists (and files written from pandas
            # frames with Arrow list columns read back)
            frame = dd.read_parquet(args.data, dtype_backend="pyarrow")
            try:  # score() is lazy: what it raises was found before any run
                result = score(
                    predict, init, frame, inputs, args.output or None, seed=args.seed
                )
            except Caffe2LiteError as e:
                raise UsageError(str(e)) from e
            result.to_parquet(args.out, compute=True)
            print(
                f"wrote {len(result.columns)} column(s) "
                f"({', '.join(result.columns)}) over {frame.npartitions} "
                f"partition(s) to {args.out} with {len(client.nthreads())} "
                "worker(s)",
                file=out,
            )
    finally:
        if cluster is not None:
            cluster.close()
    return EXIT_OK
