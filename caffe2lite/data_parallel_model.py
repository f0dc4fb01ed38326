"""Caffe2's ``data_parallel_model`` module: ``from caffe2lite import data_parallel_model``
stands in for ``from caffe2.python import data_parallel_model`` on CPU. The gradient
allreduce and the initial parameter broadcast run on MPI (the "mpi" extra, under
mpiexec); the work lives in :mod:`caffe2lite.distributed.mpi_parallel`."""

from __future__ import annotations

from caffe2lite.distributed.mpi_parallel import (
    Parallelize,
    Parallelize_CPU,
)
from caffe2lite.distributed.mpi_parallel_run import (
    AddBlobSync,
    AddDistributedBlobSync,
    ConvertNetForDevice,
    CreateNet,
    ExtractPredictorNet,
    FinalizeAfterCheckpoint,
    GetCheckpointParams,
    GetDevices,
    GetLearningRateBlobNames,
    IsGPU,
    RunInitNet,
    RunNet,
    Synchronize,
)
from caffe2lite.distributed.mpi_parallel import (
    strip_blob_name as stripBlobName,
)
from caffe2lite.distributed.mpi_parallel import (
    strip_blob_name as stripParamName,
)

__all__ = [
    "AddBlobSync", "AddDistributedBlobSync", "ConvertNetForDevice", "CreateNet",
    "ExtractPredictorNet", "FinalizeAfterCheckpoint", "GetCheckpointParams", "GetDevices",
    "GetLearningRateBlobNames", "IsGPU", "Parallelize", "Parallelize_CPU", "RunInitNet",
    "RunNet", "Synchronize", "stripBlobName", "stripParamName",
]
