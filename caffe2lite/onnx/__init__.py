"""Carry Caffe2 nets to ONNX and back (the optional ``onnx`` extra:
``pip install 'caffe2lite[onnx]'``; ``import caffe2lite`` never needs it).

- :func:`export` / :func:`caffe2_net_to_onnx_model` (:mod:`caffe2lite.onnx.frontend`,
  Caffe2's ``caffe2.python.onnx.frontend`` names): a predict net and its init net to
  an ``onnx.ModelProto``.
- :func:`import_model`: an ONNX model to ``(init_net, predict_net)``
  (:mod:`caffe2lite.onnx.backend`).
"""

from __future__ import annotations

from typing import Any

from caffe2lite.onnx._export_graph import ExportError
from caffe2lite.onnx.frontend import (
    caffe2_net_to_onnx_graph,
    caffe2_net_to_onnx_model,
    export,
)

__all__ = [
    "ExportError",
    "caffe2_net_to_onnx_graph",
    "caffe2_net_to_onnx_model",
    "export",
    "import_model",
]


def __getattr__(name: str) -> Any:
    if name == "import_model":
        from caffe2lite.onnx.backend import onnx_to_caffe2_nets

        return onnx_to_caffe2_nets
    raise AttributeError(f"module 'caffe2lite.onnx' has no attribute '{name}'")
