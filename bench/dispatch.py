"""Section 3: the cost of running many cheap ops, and the fixed cost of one call.

A net of ``dispatch_ops`` Relu ops on 4 floats, chained (each reads the previous
output) or independent (each reads X), run with ``run_net``. Yardsticks: a bare
Python loop calling the same kernels from a dict of arrays, and onnx's
``ReferenceEvaluator`` on the equivalent ONNX graph (when onnx is importable).
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
    unavailable,
)

LOOP_TARGET = Target(1 / 1.5)
ONNX_TARGET = Target(5.0)


def relu_chain(count: int, chained: bool) -> list[tuple[str, str]]:
    """``(input, output)`` blob names of each Relu."""
    return [(f"r{i - 1}" if chained and i else "X", f"r{i}") for i in range(count)]


def make_net(name: str, pairs: list[tuple[str, str]]) -> Any:
    """A NetDef of Relu ops."""
    from caffe2lite.proto import caffe2_pb2

    net = caffe2_pb2.NetDef(name=name)
    net.external_input.append("X")
    for src, dst in pairs:
        net.op.append(operator_def("Relu", [src], [dst]))
    return net


def net_runner(
    name: str, pairs: list[tuple[str, str]], x: np.ndarray
) -> Callable[[], Any]:
    """A workspace holding X and the created net: ``run_net``."""
    from caffe2lite.workspace import Workspace

    ws = Workspace()
    ws.feed_blob("X", x)
    ws.create_net(make_net(name, pairs))
    return lambda: ws.run_net(name)


def bare_loop(pairs: list[tuple[str, str]], x: np.ndarray) -> Callable[[], Any]:
    """The same kernels called from a dict of arrays, nothing else."""
    from caffe2lite.schema import registry

    kernel = registry.lookup("Relu").kernel
    plan = [(kernel, (src,), (dst,)) for src, dst in pairs]
    d = {"X": x}

    def run() -> None:
        for kernel, ins, outs in plan:
            res = kernel(*[d[n] for n in ins])
            d[outs[0]] = res[0]

    return run


def onnx_runner(pairs: list[tuple[str, str]], x: np.ndarray) -> Callable[[], Any]:
    """onnx.reference.ReferenceEvaluator on the same graph (ImportError: no onnx)."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    def value(name: str) -> onnx.ValueInfoProto:
        info = onnx.ValueInfoProto(name=name)
        info.type.tensor_type.elem_type = onnx.TensorProto.FLOAT
        info.type.tensor_type.shape.dim.add().dim_value = x.shape[0]
        return info

    chained = len(pairs) > 1 and pairs[1][0] != "X"
    outs = [pairs[-1][1]] if chained else [dst for _, dst in pairs]
    graph = onnx.GraphProto(
        name="relus",
        node=[onnx.NodeProto(op_type="Relu", input=[s], output=[d]) for s, d in pairs],
        input=[value("X")],
        output=[value(o) for o in outs],
    )
    model = onnx.ModelProto(
        ir_version=8,
        graph=graph,
        opset_import=[onnx.OperatorSetIdProto(domain="", version=17)],
    )
    onnx.checker.check_model(model)
    evaluator = ReferenceEvaluator(model)
    feeds = {"X": x}
    return lambda: evaluator.run(None, feeds)


def per_op_rows(config: Config, x: np.ndarray, chained: bool) -> list[Row]:
    """RunNet per-op cost against the bare loop and the ONNX evaluator."""
    count = config.dispatch_ops
    pairs = relu_chain(count, chained)
    kind = "chained" if chained else "independent"
    candidates = {
        "net": net_runner(f"bench_relu_{kind}", pairs, x),
        "loop": bare_loop(pairs, x),
    }
    note = ""
    if config.onnx:
        try:
            candidates["onnx"] = onnx_runner(pairs, x)
        except ImportError:
            note = "onnx not importable: ONNX yardstick skipped"
    else:
        note = "ONNX yardstick off in this configuration"
    t = {k: v * 1e6 / count for k, v in measure(candidates, config).items()}
    case = f"{count} Relu(4 floats) {kind} RunNet"
    rows = [
        compare(
            "dispatch",
            case,
            t["net"],
            "us/op",
            "bare Python loop",
            t["loop"],
            LOOP_TARGET,
        )
    ]
    if "onnx" in t:
        rows.append(
            compare(
                "dispatch",
                case,
                t["net"],
                "us/op",
                "onnx ReferenceEvaluator",
                t["onnx"],
                ONNX_TARGET,
            )
        )
    else:
        rows.append(missing("dispatch", f"{case} vs onnx", note))
    return rows


def fixed_cost_rows(config: Config, x: np.ndarray) -> list[Row]:
    """One RunNet call (0 and 1 op) and one RunOperatorOnce, against the kernel call."""
    from caffe2lite.schema import registry
    from caffe2lite.workspace import Workspace

    kernel = registry.lookup("Relu").kernel
    op = operator_def("Relu", ["X"], ["Y"])
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.create_net(make_net("bench_empty", []))
    ws.create_net(make_net("bench_one", [("X", "Y")]))
    t = measure(
        {
            "kernel": lambda: kernel(x),
            "run_net 0 ops": lambda: ws.run_net("bench_empty"),
            "run_net 1 op": lambda: ws.run_net("bench_one"),
            "run_operator_once": lambda: ws.run_operator_once(op),
        },
        config,
    )
    t = {k: v * 1e6 for k, v in t.items()}
    return [
        compare(
            "dispatch",
            f"fixed cost {name} (Relu)",
            t[name],
            "us/call",
            "Relu kernel call",
            t["kernel"],
        )
        for name in t
        if name != "kernel"
    ]


def run(config: Config) -> list[Row]:
    """Section 3 rows."""
    why = unavailable("Relu")
    if why:
        return [missing("dispatch", "Relu net", why)]
    x = np.array([-1.5, 0.0, 0.5, 2.0], dtype=np.float32)
    return (
        per_op_rows(config, x, chained=True)
        + per_op_rows(config, x, chained=False)
        + fixed_cost_rows(config, x)
    )
