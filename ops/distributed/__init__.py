"""Collective ops (Caffe2's MPI family and the Gloo-named family of
data_parallel_model), both running on one MPI communicator; see
caffe2lite.distributed.mpi_world. Store ops for rendezvous data."""

from __future__ import annotations

from . import mpi_create_common_world  # noqa: F401
from . import mpi_allreduce  # noqa: F401
from . import mpi_reduce  # noqa: F401
from . import mpi_allgather  # noqa: F401
from . import mpi_broadcast  # noqa: F401
from . import mpi_send_tensor  # noqa: F401
from . import mpi_receive_tensor  # noqa: F401
from . import create_common_world  # noqa: F401
from . import clone_common_world  # noqa: F401
from . import destroy_common_world  # noqa: F401
from . import allreduce  # noqa: F401
from . import broadcast  # noqa: F401
from . import barrier  # noqa: F401
from . import allgather  # noqa: F401
from . import reduce_scatter  # noqa: F401
from . import file_store_handler_create  # noqa: F401
from . import redis_store_handler_create  # noqa: F401
from . import store_set  # noqa: F401
from . import store_get  # noqa: F401
from . import store_add  # noqa: F401
from . import store_wait  # noqa: F401
