"""caffe2lite: Caffe2's CPU runtime in pure Python (numpy + protobuf).

``from caffe2lite import core, workspace`` stands in for
``from caffe2.python import core, workspace``; importing the package registers every
operator.
"""

from __future__ import annotations

import importlib.util as _importlib_util
import os as _os
import sys as _sys


def _load_source_tree_ops() -> None:
    """Installed, the operators ship as ``caffe2lite.ops``. Run straight from a source
    checkout (its root on ``sys.path``, or an installed copy shadowed by it), they are
    the checkout's top-level ``ops/`` folder: load that folder under the same name."""
    if _importlib_util.find_spec("caffe2lite.ops") is not None:
        return
    folder = _os.path.join(_os.path.dirname(_os.path.dirname(__file__)), "ops")
    init = _os.path.join(folder, "__init__.py")
    if not _os.path.isfile(init):
        return
    spec = _importlib_util.spec_from_file_location(
        "caffe2lite.ops", init, submodule_search_locations=[folder])
    assert spec is not None and spec.loader is not None  # a file that exists
    module = _importlib_util.module_from_spec(spec)
    _sys.modules["caffe2lite.ops"] = module
    spec.loader.exec_module(module)


from caffe2lite import errors  # noqa: F401
from caffe2lite.schema import registry  # noqa: F401  (the registry before the ops)
from caffe2lite.errors import Caffe2LiteError  # noqa: F401
from caffe2lite.schema.registry import (  # noqa: F401
    gradient_not_implemented_yet,
    no_gradient,
    register_cpu_operator,
    register_gradient,
    should_not_do_gradient,
)
from caffe2lite.schema.opschema import REQUIRED, Arg  # noqa: F401
_load_source_tree_ops()
import caffe2lite.ops  # noqa: F401,E402  (registers every operator)
from caffe2lite import core, workspace  # noqa: F401,E402

__version__ = "0.1.0"
