"""Section "sparse": a sparse model's hot path against PyTorch and onnxruntime.

Four groups of rows, each measured side by side with its yardsticks in one run
(candidates interleaved round-robin over several rounds, the minimum kept), after
checking that both sides compute the same numbers:

* **CTR training step**: 2 embedding tables of ``sparse_rows x sparse_dim`` pooled by
  sum (SparseLengthsSum), 13 dense floats, FC 45->64, Relu, FC 64->1,
  SigmoidCrossEntropyWithLogits + AveragedLoss, the backward pass and SGD (WeightedSum
  on dense parameters, ScatterWeightedSum on the embedding rows a batch touched), run
  with ``RunNet`` at each batch of ``sparse_batches``. Yardstick: the same model in
  PyTorch (``nn.EmbeddingBag(mode="sum", sparse=True)``, ``nn.Linear``,
  ``BCEWithLogitsLoss``, ``optim.SGD``), from the same parameters and batch; the
  parameters after one step of each must agree. Target: at most 1.25x PyTorch's time.
* **Embedding lookups**: SparseLengthsSum and SparseLengthsMean as one-op nets, on
  ``lookup_bags`` bags of mean length ``lookup_mean_length`` (160k ids at 4096 bags),
  against ``torch.nn.functional.embedding_bag`` (targets: 1.25x at 4096 bags, 2x at
  32) and the memory floor, a gather into a preallocated array (information). The
  peak extra memory of the op is compared with its output (target: at most 1.5x).
* **Dense chain**: FC 45->64 -> Relu -> FC 64->1 -> Sigmoid at ``dense_batch`` rows
  against onnxruntime running the ONNX graph Gemm -> Relu -> Gemm -> Sigmoid (target:
  at most 1.5x its time).
* **Sparse update**: ScatterWeightedSum of one batch's rows into a 1 MB table and into
  a 1 GB one, same indices: the time must not depend on the table (target: within
  1.2x), and the peak extra memory of the in-place update is compared with the update
  values it reads (target: at most 1.5x; a copy of the table would be 1000x).

Every library runs on one thread (bench/run.py sets the BLAS/OpenMP variables before
numpy loads; torch and onnxruntime are told here). A missing yardstick (no torch, no
onnxruntime) gives an ``n/a`` row saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bench.common import (
    Config,
    Row,
    Target,
    compare,
    measure,
    missing,
    operator_def,
    peak_extra_bytes,
    unavailable,
)

SECTION = "sparse"
STEP_TARGET = Target(1 / 1.25)
LOOKUP_TARGETS = {"large": Target(1 / 1.25), "small": Target(1 / 2.0)}
DENSE_TARGET = Target(1 / 1.5)
SIZE_TARGET = Target(1 / 1.2)
MEMORY_TARGET = Target(1.5, at_least=False)
FEATURES = 2
DENSE = 13
HIDDEN = 64
LR = 0.05


def _torch() -> Any:
    """torch pinned to one thread, or an ImportError."""
    import torch

    torch.set_num_threads(1)
    return torch


def _onnxruntime() -> Any:
    import onnxruntime

    return onnxruntime


def ctr_batch(config: Config, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """One batch: ``ids_f`` (int64) and ``lengths_f`` (int32) per table, ``dense``
    and ``label`` (float32)."""
    rng = np.random.default_rng(seed)
    blobs: dict[str, np.ndarray] = {}
    for f in range(FEATURES):
        lengths = rng.integers(
            1, 2 * config.sparse_mean_length, size=batch, dtype=np.int32
        )
        # Zipf-like ids: real batches repeat ids, so the updates see duplicates.
        ids = (rng.zipf(1.2, size=int(lengths.sum())) - 1) % config.sparse_rows
        blobs[f"ids_{f}"] = ids.astype(np.int64)
        blobs[f"lengths_{f}"] = lengths
    blobs["dense"] = rng.standard_normal((batch, DENSE), dtype=np.float32)
    blobs["label"] = (rng.random((batch, 1)) < 0.3).astype(np.float32)
    return blobs


def ctr_params(config: Config, seed: int = 1) -> dict[str, np.ndarray]:
    """The model's parameters."""
    rng = np.random.default_rng(seed)
    width = FEATURES * config.sparse_dim + DENSE
    params = {
        f"emb_{f}": rng.uniform(
            -0.05, 0.05, (config.sparse_rows, config.sparse_dim)
        ).astype(np.float32)
        for f in range(FEATURES)
    }
    params["fc1_w"] = (rng.standard_normal((HIDDEN, width)) * 0.1).astype(np.float32)
    params["fc1_b"] = np.zeros(HIDDEN, np.float32)
    params["fc2_w"] = (rng.standard_normal((1, HIDDEN)) * 0.1).astype(np.float32)
    params["fc2_b"] = np.zeros(1, np.float32)
    return params


def ctr_train_net(name: str) -> Any:
    """The training net: forward, ``AddGradientOperators`` and SGD."""
    from caffe2lite import core

    net = core.Net(name)
    bags = [
        net.SparseLengthsSum([f"emb_{f}", f"ids_{f}", f"lengths_{f}"], f"bag_{f}")
        for f in range(FEATURES)
    ]
    cat, _ = net.Concat(bags + ["dense"], ["cat", "cat_split"], axis=1)
    hidden = net.Relu([net.FC([cat, "fc1_w", "fc1_b"], "fc1")], "fc1_relu")
    logit = net.FC([hidden, "fc2_w", "fc2_b"], "logit")
    xent = net.SigmoidCrossEntropyWithLogits([logit, "label"], "xent")
    loss = net.AveragedLoss([xent], "loss")
    grads = net.AddGradientOperators([loss])
    for param in ("fc1_w", "fc1_b", "fc2_w", "fc2_b"):
        net.WeightedSum([param, "ONE", grads[param], "LR"], param)
    for f in range(FEATURES):
        g = grads[f"emb_{f}"]
        net.ScatterWeightedSum([f"emb_{f}", "ONE", g.indices, g.values, "LR"], f"emb_{f}")
    return net.Proto()


def ctr_runner(
    params: dict[str, np.ndarray], batch: dict[str, np.ndarray], name: str
) -> tuple[Callable[[], Any], Callable[[str], np.ndarray]]:
    """``RunNet`` of the training net over fed parameters and batch, and a fetch."""
    from caffe2lite.workspace import Workspace

    ws = Workspace()
    for key, value in {**params, **batch}.items():
        ws.feed_blob(key, value)
    ws.feed_blob("ONE", np.ones(1, np.float32))
    ws.feed_blob("LR", np.full(1, -LR, np.float32))
    net = ctr_train_net(name)
    ws.create_net(net)
    return (lambda: ws.run_net(net.name)), ws.fetch_blob


def torch_ctr(
    params: dict[str, np.ndarray], batch: dict[str, np.ndarray]
) -> tuple[Callable[[], Any], Callable[[str], np.ndarray]]:
    """The same model and step in PyTorch (sparse embedding gradients), and a fetch
    of its parameters under the caffe2lite names."""
    torch = _torch()
    nn = torch.nn
    bags = [
        nn.EmbeddingBag.from_pretrained(
            torch.from_numpy(params[f"emb_{f}"].copy()), freeze=False, mode="sum",
            sparse=True,
        )
        for f in range(FEATURES)
    ]
    fc1 = nn.Linear(*params["fc1_w"].shape[::-1])
    fc2 = nn.Linear(*params["fc2_w"].shape[::-1])
    with torch.no_grad():
        for layer, name in ((fc1, "fc1"), (fc2, "fc2")):
            layer.weight.copy_(torch.from_numpy(params[f"{name}_w"]))
            layer.bias.copy_(torch.from_numpy(params[f"{name}_b"]))
    modules = nn.ModuleList([*bags, fc1, fc2])
    optim = torch.optim.SGD(modules.parameters(), lr=LR)
    loss_fn = nn.BCEWithLogitsLoss()
    ids = [torch.from_numpy(batch[f"ids_{f}"]) for f in range(FEATURES)]
    offsets = [
        torch.from_numpy(
            (np.cumsum(batch[f"lengths_{f}"]) - batch[f"lengths_{f}"]).astype(np.int64)
        )
        for f in range(FEATURES)
    ]
    dense = torch.from_numpy(batch["dense"])
    label = torch.from_numpy(batch["label"]).reshape(-1, 1)

    def step() -> None:
        optim.zero_grad(set_to_none=True)
        pooled = [bag(i, o) for bag, i, o in zip(bags, ids, offsets)]
        logit = fc2(torch.relu(fc1(torch.cat(pooled + [dense], dim=1))))
        loss_fn(logit, label).backward()
        optim.step()

    def fetch(name: str) -> np.ndarray:
        if name.startswith("emb_"):
            return bags[int(name[4:])].weight.detach().numpy().copy()
        layer = fc1 if name.startswith("fc1") else fc2
        tensor = layer.weight if name.endswith("_w") else layer.bias
        return tensor.detach().numpy().copy()

    return step, fetch


def _agree(
    fetch_a: Callable[[str], np.ndarray],
    fetch_b: Callable[[str], np.ndarray],
    names: list[str],
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> str:
    """'' when both sides hold the same values, else a note naming the first blob
    that differs."""
    for name in names:
        a, b = fetch_a(name), fetch_b(name)
        if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol):
            return f"results differ ({name})"
    return ""


def step_rows(config: Config) -> list[Row]:
    """One row per batch: caffe2lite's training step against PyTorch's."""
    why = unavailable("SparseLengthsSum", "ScatterWeightedSum", "FC", "AveragedLoss")
    if why:
        return [missing(SECTION, "CTR training step", why)]
    params = ctr_params(config)
    rows: list[Row] = []
    for batch_size in config.sparse_batches:
        case = (
            f"CTR step {FEATURES}x{config.sparse_rows}x{config.sparse_dim} "
            f"batch {batch_size}"
        )
        batch = ctr_batch(config, batch_size)
        ours, fetch = ctr_runner(params, batch, f"bench_ctr_{batch_size}")
        if not config.torch:
            rows.append(missing(SECTION, case, "PyTorch yardstick off in this config"))
            continue
        try:
            theirs, fetch_torch = torch_ctr(params, batch)
        except ImportError:
            rows.append(missing(SECTION, case, "torch not importable: yardstick skipped"))
            continue
        ours()
        theirs()
        note = _agree(fetch, fetch_torch, sorted(params))
        t = measure({"caffe2lite": ours, "torch": theirs}, config)
        rows.append(
            compare(SECTION, case + " RunNet", t["caffe2lite"] * 1e3, "ms",
                    "torch SGD", t["torch"] * 1e3, STEP_TARGET, note=note)
        )
    return rows


def lookup_blobs(config: Config, bags: int, seed: int = 2) -> dict[str, np.ndarray]:
    """A table, ids and lengths for the lookup rows."""
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((config.sparse_rows, config.sparse_dim), dtype=np.float32)
    lengths = rng.integers(0, 2 * config.lookup_mean_length + 1, size=bags,
                           dtype=np.int32)
    ids = rng.integers(0, config.sparse_rows, size=int(lengths.sum()), dtype=np.int64)
    return {"DATA": table, "INDICES": ids, "LENGTHS": lengths}


def one_op_net(op_type: str, blobs: dict[str, np.ndarray], inputs: list[str],
               outputs: list[str], name: str) -> tuple[Callable[[], Any], Any]:
    """A created one-op net over fed blobs: (``run_net``, the workspace)."""
    from caffe2lite.proto import caffe2_pb2
    from caffe2lite.workspace import Workspace

    ws = Workspace()
    for key in inputs:
        ws.feed_blob(key, blobs[key])
    net = caffe2_pb2.NetDef(name=name)
    net.op.append(operator_def(op_type, inputs, outputs))
    ws.create_net(net)
    return (lambda: ws.run_net(name)), ws


def lookup_rows(config: Config) -> list[Row]:
    """SparseLengthsSum/Mean against embedding_bag and a preallocated gather."""
    rows: list[Row] = []
    for bags in config.lookup_bags:
        size = "large" if bags == max(config.lookup_bags) else "small"
        blobs = lookup_blobs(config, bags)
        table, ids, lengths = blobs["DATA"], blobs["INDICES"], blobs["LENGTHS"]
        gathered = np.empty((ids.size, table.shape[1]), table.dtype)
        for op_type, mode in (("SparseLengthsSum", "sum"), ("SparseLengthsMean", "mean")):
            case = f"{op_type} {ids.size} ids {bags} bags"
            why = unavailable(op_type)
            if why:
                rows.append(missing(SECTION, case, why))
                continue
            run, ws = one_op_net(op_type, blobs, ["DATA", "INDICES", "LENGTHS"],
                                 ["OUT"], f"bench_{op_type}_{bags}")
            run()
            out = ws.fetch_blob("OUT")
            extra, _ = peak_extra_bytes(run)
            rows.append(
                compare(SECTION, case + " peak extra memory", extra / 1e6, "MB",
                        "output", out.nbytes / 1e6, MEMORY_TARGET, inverse=True)
            )
            candidates: dict[str, Callable[[], Any]] = {
                "caffe2lite": run,
                "gather": lambda: np.take(table, ids, axis=0, out=gathered),
            }
            note = ""
            if config.torch:
                try:
                    torch = _torch()
                    f = torch.nn.functional
                    t_table, t_ids = torch.from_numpy(table), torch.from_numpy(ids)
                    t_offsets = torch.from_numpy(
                        (np.cumsum(lengths) - lengths).astype(np.int64))

                    def bag(mode: str = mode) -> Any:
                        with torch.no_grad():
                            return f.embedding_bag(t_ids, t_table, t_offsets, mode=mode)

                    want = bag().numpy()
                    if not np.allclose(out, want, rtol=1e-4, atol=1e-4):
                        note = "results differ from embedding_bag"
                    candidates["torch"] = bag
                except ImportError:
                    note = "torch not importable: embedding_bag yardstick skipped"
            t = measure(candidates, config)
            if "torch" in t:
                rows.append(
                    compare(SECTION, case + " RunNet", t["caffe2lite"] * 1e6, "us",
                            "embedding_bag", t["torch"] * 1e6, LOOKUP_TARGETS[size],
                            note=note)
                )
            else:
                rows.append(missing(SECTION, case + " vs embedding_bag",
                                    note or "PyTorch yardstick off in this config"))
            rows.append(
                compare(SECTION, case + " RunNet", t["caffe2lite"] * 1e6, "us",
                        "preallocated gather", t["gather"] * 1e6)
            )
    return rows


def dense_onnx(params: dict[str, np.ndarray]) -> Any:
    """The ONNX model Gemm -> Relu -> Gemm -> Sigmoid with the same weights."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(params[k], k)
             for k in ("fc1_w", "fc1_b", "fc2_w", "fc2_b")]
    nodes = [
        helper.make_node("Gemm", ["X", "fc1_w", "fc1_b"], ["fc1"], transB=1),
        helper.make_node("Relu", ["fc1"], ["fc1_relu"]),
        helper.make_node("Gemm", ["fc1_relu", "fc2_w", "fc2_b"], ["logit"], transB=1),
        helper.make_node("Sigmoid", ["logit"], ["prob"]),
    ]
    width = params["fc1_w"].shape[1]
    graph = helper.make_graph(
        nodes, "dense_chain",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, width])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [None, 1])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def dense_rows(config: Config) -> list[Row]:
    """The FC -> Relu -> FC -> Sigmoid net against onnxruntime."""
    case = f"FC-Relu-FC-Sigmoid batch {config.dense_batch}"
    why = unavailable("FC", "Relu", "Sigmoid")
    if why:
        return [missing(SECTION, case, why)]
    from caffe2lite import core
    from caffe2lite.workspace import Workspace

    params = ctr_params(config)
    x = np.random.default_rng(3).standard_normal(
        (config.dense_batch, params["fc1_w"].shape[1]), dtype=np.float32)
    ws = Workspace()
    for key in ("fc1_w", "fc1_b", "fc2_w", "fc2_b"):
        ws.feed_blob(key, params[key])
    ws.feed_blob("X", x)
    net = core.Net("bench_dense_chain")
    hidden = net.Relu([net.FC(["X", "fc1_w", "fc1_b"], "fc1")], "fc1_relu")
    net.Sigmoid([net.FC([hidden, "fc2_w", "fc2_b"], "logit")], "prob")
    ws.create_net(net.Proto())
    name = net.Proto().name

    def ours() -> Any:
        return ws.run_net(name)

    ours()
    got = ws.fetch_blob("prob")
    h = np.maximum(x @ params["fc1_w"].T + params["fc1_b"], 0)
    numpy_ref = 1 / (1 + np.exp(-(h @ params["fc2_w"].T + params["fc2_b"])))
    note = "" if np.allclose(got, numpy_ref, rtol=1e-5, atol=1e-6) else "results differ"
    candidates: dict[str, Callable[[], Any]] = {"caffe2lite": ours}
    missing_note = ""
    try:
        ort = _onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(
            dense_onnx(params).SerializeToString(), options,
            providers=["CPUExecutionProvider"])
        feed = {"X": x}
        if not np.allclose(session.run(None, feed)[0], got, rtol=1e-5, atol=1e-6):
            note = "results differ from onnxruntime"
        candidates["onnxruntime"] = lambda: session.run(None, feed)
    except ImportError:
        missing_note = "onnxruntime or onnx not importable: yardstick skipped"
    t = measure(candidates, config)
    if "onnxruntime" not in t:
        return [missing(SECTION, case, missing_note)]
    return [compare(SECTION, case + " RunNet", t["caffe2lite"] * 1e6, "us",
                    "onnxruntime", t["onnxruntime"] * 1e6, DENSE_TARGET, note=note)]


def update_rows(config: Config) -> list[Row]:
    """ScatterWeightedSum into a small and a big table with the same indices."""
    case = "ScatterWeightedSum"
    why = unavailable(case)
    if why:
        return [missing(SECTION, case, why)]
    dim = config.sparse_dim
    row_bytes = dim * 4
    small_rows = config.update_small_bytes // row_bytes
    big_rows = config.update_big_bytes // row_bytes
    batch = ctr_batch(config, max(config.sparse_batches))
    ids = batch["ids_0"] % small_rows
    values = np.random.default_rng(4).standard_normal((ids.size, dim), dtype=np.float32)
    runs = {}
    for label, rows_count in (("small", small_rows), ("big", big_rows)):
        blobs = {
            "X": np.full((rows_count, dim), 0.5, np.float32),
            "ONE": np.ones(1, np.float32),
            "I": ids,
            "V": values,
            "LR": np.full(1, -LR, np.float32),
        }
        run, ws = one_op_net(case, blobs, ["X", "ONE", "I", "V", "LR"], ["X"],
                             f"bench_update_{label}")
        del blobs
        runs[label] = run
    extra, _ = peak_extra_bytes(runs["big"])
    t = measure(runs, config)
    mb = lambda n: f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n // 1024} KB"  # noqa: E731
    sizes = f"{ids.size} ids, {mb(config.update_small_bytes)} vs {mb(config.update_big_bytes)} table"
    return [
        compare(SECTION, f"{case} {sizes}", t["big"] * 1e3, "ms",
                f"same op, {mb(config.update_small_bytes)} table", t["small"] * 1e3,
                SIZE_TARGET),
        compare(SECTION, f"{case} {mb(config.update_big_bytes)} table peak extra memory",
                extra / 1e6, "MB", "update values", values.nbytes / 1e6,
                MEMORY_TARGET, inverse=True),
    ]


def run(config: Config) -> list[Row]:
    """All rows of the section."""
    return step_rows(config) + lookup_rows(config) + dense_rows(config) + update_rows(config)
