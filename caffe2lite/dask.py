"""Scoring a net over a partitioned dataset on Dask (the ``dask`` extra).

``caffe2lite.dask.score(predict_net, init_net, frame, inputs={blob: column},
outputs=[...])`` maps the net over the partitions of a Dask DataFrame and returns a
lazy Dask DataFrame of the outputs; ``local_cluster(n)`` starts n worker processes
on this machine set up for it. Each worker runs the init net once and keeps its
workspace for every later partition. Columns feed blobs as described in
:mod:`caffe2lite.distributed.feeds` (a list<int64> column ``C`` feeds ``C`` and
``C_lengths``); random ops are reseeded per partition as described in
:mod:`caffe2lite.distributed.dask_score`.

Without ``pip install "caffe2lite[dask]"`` this module still imports; calling
:func:`score` raises :class:`DaskNotInstalledError` naming the extra.
"""

from __future__ import annotations

from caffe2lite.distributed.dask_score import (
    DaskNotInstalledError,
    init_runs,
    local_cluster,
    partition_seed,
    score,
    score_partition,
    seeded_for_partition,
)

__all__ = [
    "DaskNotInstalledError",
    "init_runs",
    "local_cluster",
    "partition_seed",
    "score",
    "score_partition",
    "seeded_for_partition",
]
