"""Caffe2's ``Predictor``: an init net run once and a predict net run on inputs, in a
workspace of their own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from caffe2lite.errors import ApiValueError, BlobNotFoundError, did_you_mean
from caffe2lite.proto import caffe2_pb2


def _netdef(net: Any, what: str) -> caffe2_pb2.NetDef:
    if hasattr(net, "Proto"):
        net = net.Proto()
    if isinstance(net, caffe2_pb2.NetDef):
        return net
    if isinstance(net, (bytes, bytearray)):
        from caffe2lite.errors import ProtoParseError
        from caffe2lite.io.protoio import parse_message

        try:  # the loaders' checks apply to bytes too
            return parse_message(bytes(net), caffe2_pb2.NetDef, name=what, fmt="binary")
        except ProtoParseError as e:
            raise ProtoParseError(f"{what}: cannot parse bytes as a NetDef: {e}") from None
    raise ApiValueError(f"{what} must be a NetDef, its serialized bytes or a core.Net",
                        found=type(net).__name__)


class Predictor:
    """``Predictor(init_net, predict_net)``: runs ``init_net`` once (the parameters),
    creates ``predict_net``; ``run(inputs)`` feeds the inputs and returns the outputs.

    The inputs are the predict net's external inputs that the init net did not make,
    in order; the outputs its external outputs. ``run`` takes a list (in that order,
    as many as given) or a dict by name, and returns a list of arrays, as Caffe2's
    ``workspace.Predictor`` did. The nets may be NetDefs, their serialized bytes (as
    Caffe2 took them) or core.Nets. Each predictor has its own workspace.

    >>> from caffe2lite import core
    >>> init = core.Net("init"); _ = init.ConstantFill([], "b", shape=[2], value=1.0)
    >>> net = core.Net("p"); _ = net.Add(["x", "b"], "y")
    >>> net.Proto().external_input.extend(["x", "b"]); net.Proto().external_output.append("y")
    >>> Predictor(init, net).run([np.array([1.0, 2.0], np.float32)])
    [array([2., 3.], dtype=float32)]
    """

    def __init__(self, init_net: Any, predict_net: Any) -> None:
        from caffe2lite.runtime.workspace import Workspace

        self.init_net = _netdef(init_net, "init_net")
        self.predict_net = _netdef(predict_net, "predict_net")
        self.ws = Workspace()
        self.ws.run_net_once(self.init_net)
        made = set(self.ws.blobs)
        self.input_names = [n for n in dict.fromkeys(self.predict_net.external_input)
                            if n not in made]
        self.output_names = list(self.predict_net.external_output)
        for name in self.input_names:
            self.ws.create_blob(name)
        net = caffe2_pb2.NetDef()
        net.CopyFrom(self.predict_net)
        if not net.name:
            net.name = "predict"
        self._net = self.ws.create_net(net, overwrite=True)

    def run(self, inputs: Sequence[Any] | Mapping[str, Any]) -> list[np.ndarray]:
        """Feed ``inputs`` (a list in input order, or a dict by name), run the
        predict net, return its outputs."""
        if isinstance(inputs, Mapping):
            for name, value in inputs.items():
                if name not in self.input_names:
                    raise BlobNotFoundError(
                        f"input {name!r} is not an input of the predictor"
                        + did_you_mean(name, self.input_names), blob=name)
                self.ws.feed_blob(name, value)
        else:
            inputs = list(inputs)
            if len(inputs) > len(self.input_names):
                raise ApiValueError(
                    f"{len(inputs)} inputs given; the predictor has "
                    f"{len(self.input_names)}: {self.input_names}",
                    expected=f"at most {len(self.input_names)} inputs", found=len(inputs))
            for name, value in zip(self.input_names, inputs):
                self.ws.feed_blob(name, value)
        self._net.run()
        return [self.ws.fetch_blob(name) for name in self.output_names]

    @classmethod
    def from_db(cls, filename: str, db_type: str = "minidb", name: str = "") -> Predictor:
        """A Predictor from a predictor DB written by ``save_to_db`` (or Caffe2): the
        parameters and the predict init net go into the predictor's own workspace.
        ``name`` picks a named predictor of the DB (``PREDICT_NET_TYPE_<name>``)."""
        from caffe2lite.io.blobproto import deserialize_records
        from caffe2lite.io.db import read_db
        from caffe2lite.io.protoio import parse_message
        from caffe2lite.predictor import predictor_py_utils as utils
        from caffe2lite.predictor.metanet import MetaNetDef
        from caffe2lite.predictor.metanet import predictor_constants as pc

        values = deserialize_records(read_db(db_type, str(filename)))
        if pc.META_NET_DEF not in values:
            raise BlobNotFoundError(f"{filename}: no {pc.META_NET_DEF} blob: not a "
                                    "predictor DB", blob=pc.META_NET_DEF)
        meta = parse_message(values[pc.META_NET_DEF], MetaNetDef,
                             name=f"{filename} blob {pc.META_NET_DEF}", fmt="binary")

        def part(kind: str) -> str:
            return utils.get_comp_name(kind, name)

        params = list(utils.GetBlobs(meta, part(pc.PARAMETERS_BLOB_TYPE)))
        init = caffe2_pb2.NetDef(name="predictor-init")
        for param in params:
            if param not in values:
                raise BlobNotFoundError(f"{filename}: parameter {param} is missing",
                                        blob=param)
        predict_init = utils.GetNet(meta, part(pc.PREDICT_INIT_NET_TYPE))
        if predict_init is not None:
            init.op.extend(predict_init.op)
        predictor = cls.__new__(cls)
        from caffe2lite.runtime.workspace import Workspace

        predictor.ws = Workspace()
        for param in params:
            predictor.ws.feed_blob(param, values[param])
        predictor.init_net = init
        predictor.ws.run_net_once(init)
        predict_net = utils.GetNet(meta, part(pc.PREDICT_NET_TYPE))
        if predict_net is None:
            raise ApiValueError(f"{filename}: the predictor has no net "
                                f"{part(pc.PREDICT_NET_TYPE)}",
                                found=", ".join(kv.key for kv in meta.nets))
        predictor.predict_net = predict_net
        predictor.input_names = list(utils.GetBlobs(meta, part(pc.INPUTS_BLOB_TYPE)))
        predictor.output_names = list(predict_net.external_output)
        net = caffe2_pb2.NetDef()
        net.CopyFrom(predict_net)
        net.name = net.name or "predict"
        predictor._net = predictor.ws.create_net(net, overwrite=True)
        return predictor
