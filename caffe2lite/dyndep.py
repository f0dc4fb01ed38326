"""Caffe2's ``dyndep``: loading operator libraries.

Caffe2 loaded compiled operator libraries (``.so`` files, or build targets such as
``@/caffe2/caffe2/distributed:file_store_handler_ops``) to register more operators.
caffe2lite's operators are all built in, including those of Caffe2's distributed,
Gloo and MPI libraries, so a script's ``dyndep.InitOpsLibrary(...)`` calls have
nothing to load:

- a name that is not a file (a build target) is ignored, with the message Caffe2
  printed for it (``Ignoring <name> as it is not a valid file.``);
- an existing file is refused with :class:`OpsLibraryError`: loading it would run its
  native code, and a Caffe2 C++ library could not register operators here anyway.
"""

from __future__ import annotations

import os

from caffe2lite.errors import Caffe2LiteError

__all__ = ["GetImportedOpsLibraries", "InitOpsLibrary", "OpsLibraryError"]

_IGNORED: list[str] = []


class OpsLibraryError(Caffe2LiteError):
    """A compiled operator library was asked for (caffe2lite never loads native code)."""


def InitOpsLibrary(name: str, trigger_lazy: bool = True) -> None:
    """Caffe2's InitOpsLibrary: a build-target name is ignored (every operator is built
    in); a real file is an :class:`OpsLibraryError`."""
    if not os.path.exists(name):
        print(f"Ignoring {name} as it is not a valid file.")
        _IGNORED.append(name)
        return
    raise OpsLibraryError(
        f"InitOpsLibrary: {name} is a compiled Caffe2 operator library; caffe2lite does "
        "not load native code (its operators, including the distributed, Gloo and MPI "
        "ones, are built in)", expected="a Caffe2 library name (ignored)", found=name)


def GetImportedOpsLibraries() -> set[str]:
    """The names given to InitOpsLibrary (none of them loaded anything)."""
    return set(_IGNORED)
