"""Caffe2Rep: a prepared ONNX model (its nets and a private workspace) and ``run``,
as Caffe2's ``caffe2.python.onnx.backend_rep`` had it."""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any

import numpy as np

from caffe2lite.errors import ApiValueError
from caffe2lite.proto import caffe2_pb2

if TYPE_CHECKING:
    from typing_extensions import Self

    from caffe2lite.runtime.workspace import Workspace


class _Outputs(tuple):
    """A tuple of outputs that also answers ``outputs.name`` and ``outputs['name']``."""

    _names: list[str]  # set by __new__ (an instance attribute, not a class one)

    def __new__(cls, names: list[str], values: list[Any]) -> Self:
        self = super().__new__(cls, values)
        self._names = list(names)
        return self

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            if key not in self._names:
                raise KeyError(f"{key!r} is not an output; the outputs are {self._names}")
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)

    @property
    def _fields(self) -> tuple[str, ...]:
        return tuple(self._names)

    def __getattr__(self, name: str) -> Any:
        names = self.__dict__.get("_names", [])
        if name in names:
            return tuple.__getitem__(self, names.index(name))
        raise AttributeError(name)

    def _asdict(self) -> dict[str, Any]:
        return collections.OrderedDict(zip(self._names, self))

    def keys(self) -> list[str]:
        return list(self._names)


def _array(value: Any) -> Any:
    """numpy scalars and Python numbers as 0-d arrays (ONNX scalars are 0-d tensors)."""
    if isinstance(value, (np.generic, bool, int, float)):
        return np.asarray(value)
    return value


class Caffe2Rep:
    """A prepared model: its nets, a private workspace, and ``run``."""

    def __init__(self, init_net: caffe2_pb2.NetDef, predict_net: caffe2_pb2.NetDef,
                 workspace: Workspace, uninitialized: list[str]) -> None:
        self.init_net = init_net
        self.predict_net = predict_net
        self.workspace = workspace
        self.uninitialized = list(uninitialized)
        self.nets_created = False
        self.ran_init_net = False

    def run(self, inputs: Any, **kwargs: Any) -> _Outputs:
        """Run the init net (first time only), feed ``inputs`` (a dict by name, a
        list/tuple in graph-input order, or one array), run the predict net, and
        return the outputs in graph output order. (Caffe2 fed before running the init
        net, so a fed graph input that also had an initializer was overwritten on the
        first run only; here a fed value always wins, as ONNX means.)"""
        ws = self.workspace
        if not self.ran_init_net:  # first, so fed values override initializers
            ws.run_net_once(self.init_net)
            self.ran_init_net = True
        if isinstance(inputs, dict):
            for key, value in inputs.items():
                ws.feed_blob(key, _array(value))
        else:
            if not isinstance(inputs, (list, tuple)):  # one value
                inputs = [inputs]
            if len(self.uninitialized) != len(inputs):
                raise ApiValueError(
                    "Expected {} values for uninitialized graph inputs ({}), but got {}."
                    .format(len(self.uninitialized), ", ".join(self.uninitialized),
                            len(inputs)))
            for name, value in zip(self.uninitialized, inputs):
                ws.feed_blob(name, _array(value))
        if not self.nets_created:
            ws.create_net(self.predict_net, overwrite=True)
            self.nets_created = True
        ws.run_net(self.predict_net.name)
        names = list(self.predict_net.external_output)
        return _Outputs(names, [ws.fetch_blob(n) for n in names])
