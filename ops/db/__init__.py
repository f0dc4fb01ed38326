"""DB operators: Save, Load, DBExists, Checkpoint (and its old name Snapshot) and
CreateDB (Caffe2's load_save_op and create_db_op), on the DB formats of
:mod:`caffe2lite.io.db`."""

from __future__ import annotations

from . import save  # noqa: F401
from . import load  # noqa: F401
from . import db_exists  # noqa: F401
from . import checkpoint  # noqa: F401
from . import snapshot  # noqa: F401
from . import create_db  # noqa: F401
