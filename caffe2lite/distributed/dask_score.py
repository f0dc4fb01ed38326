"""Scoring a net over the partitions of a Dask DataFrame.

:func:`score` maps :func:`score_partition` over the partitions. Each worker process
keeps one workspace per pair of nets (a cache keyed by the SHA-256 of the two nets'
bytes and the seed): the first partition a worker scores runs the init net and
creates the predict net there; every later partition only feeds its columns, runs
the net and fetches the outputs.

Random ops stay reproducible. An op's seed is its ``device_option.random_seed``
(the net's device option when the op has none), else ``seed + i`` for op ``i``
when ``score(seed=...)`` is given, else none (then it draws from the operating
system, as in Caffe2). Before partition ``p`` runs, each seeded op's generator is
reset to::

    partition_seed = (op_seed + 0x9E3779B9 * p) mod 2**32

so partition 0 draws exactly what a plain single-process run draws, and the
output of partition ``p`` depends only on the nets, ``p`` and that partition's
rows: not on the worker, the number of workers, the order partitions run in, or a
retry after a worker died. Running a NetDef whose random ops carry
``partition_seed`` as their ``random_seed`` on the rows of partition ``p`` alone
gives the same numbers (:func:`partition_seed`, :func:`seeded_for_partition`).
Re-partitioning a frame changes which rows share a partition index, and so the
draws.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from caffe2lite.distributed.feeds import (
    check_columns,
    default_inputs,
    is_list_dtype,
    output_columns,
    output_names,
    partition_feeds,
)
from caffe2lite.errors import Caffe2LiteError
from caffe2lite.proto import caffe2_pb2

UINT32 = 2**32
GOLDEN = 0x9E3779B9
EXTRA_HINT = 'install it with: pip install "caffe2lite[dask]"'


class DaskNotInstalledError(Caffe2LiteError):
    """The ``dask`` extra (dask[distributed], pandas, pyarrow) is not installed."""


def require_dask() -> Any:
    """Import the ``dask`` extra's modules, or say which extra to install."""
    try:
        import dask.dataframe as dd
        import distributed  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as e:
        raise DaskNotInstalledError(
            f"scoring on Dask needs the 'dask' extra (missing module "
            f"'{e.name}'); {EXTRA_HINT}"
        ) from None
    return dd


def partition_seed(op_seed: int, partition: int) -> int:
    """The seed an op seeded ``op_seed`` uses on partition ``partition``."""
    return (int(op_seed) + GOLDEN * int(partition)) % UINT32


def _netdef(net: Any) -> caffe2_pb2.NetDef:
    if isinstance(net, caffe2_pb2.NetDef):
        return net
    if hasattr(net, "Proto"):
        return net.Proto()
    if isinstance(net, (bytes, bytearray)):
        from caffe2lite.io.protoio import parse_message

        return parse_message(bytes(net), caffe2_pb2.NetDef, fmt="binary")
    raise Caffe2LiteError(
        f"expected a NetDef, core.Net or serialized NetDef bytes, "
        f"found {type(net).__name__}"
    )


def op_seeds(netdef: caffe2_pb2.NetDef, seed: int | None) -> list[int | None]:
    """Each op's seed: its own, the net's, ``seed + i``, or None (unseeded)."""
    net_option = netdef.device_option if netdef.HasField("device_option") else None
    seeds: list[int | None] = []
    for i, op in enumerate(netdef.op):
        option = op.device_option if op.HasField("device_option") else net_option
        if option is not None and option.HasField("random_seed"):
            seeds.append(option.random_seed)
        else:
            seeds.append(None if seed is None else (seed + i) % UINT32)
    return seeds


def seeded_for_partition(
    netdef: Any, partition: int, seed: int | None = None
) -> caffe2_pb2.NetDef:
    """A copy of ``netdef`` whose ops carry the seeds partition ``partition`` uses:
    running it in one process on that partition's rows reproduces the Dask run."""
    out = caffe2_pb2.NetDef()
    out.CopyFrom(_netdef(netdef))
    for op, s in zip(out.op, op_seeds(out, seed)):
        if s is not None:
            if not op.HasField("device_option") and out.HasField("device_option"):
                op.device_option.CopyFrom(out.device_option)
            op.device_option.random_seed = partition_seed(s, partition)
    return out


def needed_inputs(predict: caffe2_pb2.NetDef, init: caffe2_pb2.NetDef) -> list[str]:
    """Blobs the predict net reads that neither the init net nor an earlier op of
    the predict net makes: the blobs the columns must feed."""
    made = {b for op in init.op for b in op.output}
    needed: dict[str, None] = {}
    for op in predict.op:
        for blob in op.input:
            if blob not in made:
                needed[blob] = None
        made.update(op.output)
    return list(needed)


def default_outputs(predict: caffe2_pb2.NetDef) -> list[str]:
    """The net's external outputs, else the outputs of its last op."""
    if predict.external_output:
        return list(predict.external_output)
    return list(predict.op[-1].output) if predict.op else []


class _Scorer:
    """One workspace with the init net run and the predict net created."""

    def __init__(self, predict: bytes, init: bytes, seed: int | None) -> None:
        from caffe2lite.runtime.workspace import Workspace

        global INIT_RUNS
        self.ws = Workspace()
        init_def = _netdef(init)
        init_def.name = init_def.name or "init"
        self.ws.run_net_once(init_def)
        with _LOCK:
            INIT_RUNS += 1
        self.predict = _netdef(predict)
        if not self.predict.name:
            self.predict.name = "predict"
        self.needed = needed_inputs(self.predict, init_def)
        self.handle = self.ws._create_net(
            self.predict, overwrite=True, also_existing=self.needed
        )
        seeds = op_seeds(self.predict, seed)
        compiled = self.handle.compiled
        self.rngs: list[tuple[Any, int]] = []
        for step in compiled.ops:
            op_seed = None if step.index is None else seeds[step.index]
            if "rng" in step.kwargs and op_seed is not None:
                self.rngs.append((step.kwargs["rng"], op_seed))

    def run(
        self, feeds: Mapping[str, np.ndarray], partition: int, outputs: Sequence[str]
    ) -> list[np.ndarray]:
        for rng, s in self.rngs:
            rng.bit_generator.state = np.random.default_rng(
                partition_seed(s, partition)
            ).bit_generator.state
        for name, value in feeds.items():
            self.ws.feed_blob(name, value)
        self.ws.run_net(self.predict.name)
        return [self.ws.fetch_blob(name) for name in outputs]


INIT_RUNS = 0  # init nets run in this process (tests count them on each worker)
_CACHE: dict[str, _Scorer] = {}
_LOCK = threading.RLock()  # held while a workspace is made (which counts its init run)


def init_runs() -> int:
    """How many times this process ran an init net for scoring."""
    return INIT_RUNS


def clear_cache() -> None:
    """Forget this process's workspaces (the next partition runs the init net)."""
    with _LOCK:
        _CACHE.clear()


def scorer(predict: bytes, init: bytes, seed: int | None) -> _Scorer:
    """This process's workspace for the two nets, made on first use."""
    key = hashlib.sha256(
        predict + b"\0" + init + b"\0" + repr(seed).encode()
    ).hexdigest()
    with _LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = _CACHE[key] = _Scorer(predict, init, seed)
    return found


def score_partition(
    frame: Any,
    predict: bytes,
    init: bytes,
    inputs: Mapping[str, Any],
    outputs: Sequence[str],
    seed: int | None = None,
    partition_info: Mapping[str, Any] | None = None,
) -> Any:
    """Score one pandas partition: a frame of output columns on ``frame``'s index.

    ``partition_info`` is what Dask passes (``{"number": p, ...}``); without it the
    partition counts as partition 0."""
    import pandas as pd

    partition = int(partition_info["number"]) if partition_info else 0
    rows = len(frame)
    values = scorer(predict, init, seed).run(
        partition_feeds(frame, inputs), partition, outputs
    )
    columns: dict[str, np.ndarray] = {}
    for name, value in zip(outputs, values):
        columns.update(output_columns(name, value, rows))
    return pd.DataFrame(columns, index=frame.index)


def _probe_meta(
    predict: caffe2_pb2.NetDef,
    init: caffe2_pb2.NetDef,
    inputs: Mapping[str, Any],
    outputs: Sequence[str],
    frame: Any,
) -> Any:
    """The empty output frame, from shape inference on a 2-row batch."""
    import pandas as pd

    from caffe2lite.inference import infer_net
    from caffe2lite.schema.shapes import TensorShape

    known = infer_net(init, {}, strict=False)
    rows, ids = 2, 3
    dtypes = dict(frame.dtypes.items())
    for blob, spec in inputs.items():
        if not isinstance(spec, str):
            known[blob] = TensorShape((rows, len(spec)), np.dtype(np.float32))
        elif spec not in dtypes:  # C_lengths
            known[blob] = TensorShape((rows,), np.dtype(np.int32))
        elif is_list_dtype(dtypes[spec]):
            known[blob] = TensorShape((ids,), np.dtype(np.int64))
        else:
            known[blob] = TensorShape((rows,), np.dtype(np.float32))
    known = infer_net(predict, known, strict=False)
    columns: dict[str, Any] = {}
    for name in outputs:
        shape = known.get(name)
        if (
            shape is None
            or not shape.known
            or shape.dtype is None
            or shape.ndim not in (1, 2)
            or shape.dims is None
            or shape.dims[0] != rows
        ):
            raise Caffe2LiteError(
                f"cannot infer the shape of output blob '{name}' ({shape}); pass "
                "meta= (an empty pandas DataFrame with the output columns)",
                blob=name,
            )
        for col in output_names(name, cast("tuple[int, ...]", shape.dims)):
            columns[col] = pd.Series([], dtype=shape.dtype)
    return pd.DataFrame(columns, index=frame._meta.index[:0])


def local_cluster(workers: int, *, silence_logs: int = logging.WARNING) -> Any:
    """A ``distributed.LocalCluster`` for scoring on this machine (what ``caffe2lite
    score --scheduler local`` starts): ``workers`` worker processes of one thread
    each, on loopback, without a dashboard.

    The workers keep freed memory mapped (:func:`caffe2lite.distributed.allocator.environ`)
    instead of Dask's default ``MALLOC_TRIM_THRESHOLD_=65536``, with which every
    array a net makes faulted its pages in again: about 4,000 page faults and 1.5x
    the time per 50,000-row partition of the benchmark's CTR-like net."""
    require_dask()
    import dask
    from distributed import LocalCluster

    from caffe2lite.distributed import allocator

    # glibc reads these when the process starts: Dask sets them before spawning a
    # worker only from "pre-spawn-environ" (its env= is applied after the start)
    key = "distributed.nanny.pre-spawn-environ"
    environ = dict(dask.config.get(key, default={}) or {}, **allocator.environ())
    with dask.config.set({key: environ}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
            silence_logs=silence_logs,
        )


def score(
    predict_net: Any,
    init_net: Any,
    frame: Any,
    inputs: Mapping[str, Any] | None = None,
    outputs: Sequence[str] | None = None,
    *,
    seed: int | None = None,
    meta: Any = None,
) -> Any:
    """Score ``predict_net`` (after ``init_net``) on every row of the Dask DataFrame
    ``frame``; a lazy Dask DataFrame of the outputs, on ``frame``'s index."""
    require_dask()
    predict, init = _netdef(predict_net), _netdef(init_net)
    if not predict.op:
        raise Caffe2LiteError("the predict net has no operators")
    dtypes = dict(frame.dtypes.items())
    mapping = default_inputs(needed_inputs(predict, init), dtypes)
    mapping.update(inputs or {})
    check_columns(mapping, dtypes)
    missing = [b for b in needed_inputs(predict, init) if b not in mapping]
    if missing:
        raise Caffe2LiteError(
            f"no column feeds the net input(s) {missing}; map them with "
            f"inputs={{blob: column}} (--input BLOB=COLUMN on the command line; "
            f"columns: {sorted(dtypes)})",
            blob=missing[0],
        )
    outputs = list(outputs) if outputs else default_outputs(predict)
    if meta is None:
        meta = _probe_meta(predict, init, mapping, outputs, frame)
    return frame.map_partitions(
        score_partition,
        predict.SerializeToString(),
        init.SerializeToString(),
        dict(mapping),
        outputs,
        seed,
        meta=meta,
        align_dataframes=False,
    )
