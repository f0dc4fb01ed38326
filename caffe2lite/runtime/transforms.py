"""Net transforms (Caffe2's ``workspace.ApplyTransform``): a registry of functions
that rewrite a NetDef.

Caffe2 registered C++ transforms by name; caffe2lite has the one its CPU runtime
can mean: ``ConvToNNPack`` (every CPU ``Conv`` op gets the ``NNPACK`` engine; with
no such engine registered here, the op then runs on the default one, as Caffe2
fell back when an engine was missing).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from caffe2lite.errors import Caffe2LiteError, did_you_mean
from caffe2lite.proto import caffe2_pb2

TRANSFORMS: dict[str, Callable[[caffe2_pb2.NetDef], caffe2_pb2.NetDef]] = {}


def register_transform(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        TRANSFORMS[name] = fn
        return fn

    return decorate


@register_transform("ConvToNNPack")
def conv_to_nnpack(net: caffe2_pb2.NetDef) -> caffe2_pb2.NetDef:
    out = caffe2_pb2.NetDef()
    out.CopyFrom(net)
    for op in out.op:
        on_cpu = op.device_option.device_type == caffe2_pb2.CPU
        if op.type == "Conv" and on_cpu and op.engine != "NNPACK":
            op.engine = "NNPACK"
    return out


def apply_transform(key: Any, net: caffe2_pb2.NetDef) -> caffe2_pb2.NetDef:
    """The transform ``key`` applied to a copy of ``net``."""
    name = key.decode("utf-8") if isinstance(key, bytes) else str(key)
    if name not in TRANSFORMS:
        raise Caffe2LiteError(f"Transform {name} not found in the transform registry"
                              + did_you_mean(name, TRANSFORMS), expected="a registered "
                              "transform", found=repr(name))
    return TRANSFORMS[name](net)


def _mean_run_time(ws: Any, net: caffe2_pb2.NetDef, warmup: int, runs: int) -> float:
    name = net.name
    ws.create_net(net, overwrite=True)
    ws.run_net(name, max(warmup, 0))
    start = time.perf_counter()
    ws.run_net(name, max(runs, 1))
    return (time.perf_counter() - start) / max(runs, 1)


def apply_transform_if_faster(key: Any, net: caffe2_pb2.NetDef, init_net: caffe2_pb2.NetDef,
                              warmup_runs: int = 5, main_runs: int = 10,
                              improvement_threshold: float = 1.01) -> caffe2_pb2.NetDef:
    """The transformed net when it runs faster than ``net`` by the factor
    ``improvement_threshold`` (both timed after ``init_net`` in a scratch
    workspace), ``net`` otherwise."""
    from caffe2lite.runtime.workspace import Workspace

    transformed = apply_transform(key, net)
    ws = Workspace()
    ws.run_net_once(init_net)
    before = _mean_run_time(ws, net, warmup_runs, main_runs)
    after = _mean_run_time(ws, transformed, warmup_runs, main_runs)
    return transformed if after * improvement_threshold < before else net
