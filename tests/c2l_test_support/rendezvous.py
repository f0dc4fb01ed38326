"""Lines of a rank script that set up Caffe2's data-parallel rendezvous: a file store
in a shared folder and the ``rendezvous`` dict Caffe2's trainers passed to
``data_parallel_model.Parallelize``."""

from __future__ import annotations


def file_store_rendezvous(path: object) -> str:
    """Python source defining ``rendezvous`` (engine GLOO, a file store at ``path``)."""
    return f'''
workspace.RunOperatorOnce(core.CreateOperator(
    "FileStoreHandlerCreate", [], ["store_handler"], path={str(path)!r}))
rendezvous = dict(kv_handler="store_handler", shard_id=RANK, num_shards=SIZE,
                  engine="GLOO", transport="tcp", interface="", exit_nets=None)
'''


def skip_without_mpi() -> None:
    """Skip the calling test, saying why, where multi-rank runs cannot start here."""
    import pytest

    from caffe2lite.distributed import mpi_launch

    why = mpi_launch.unavailable()
    if why is not None:
        print(f"skipped: {why}")
        pytest.skip(why)
