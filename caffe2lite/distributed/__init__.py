"""Running nets beyond one process on existing distributed engines.

- ``mpi_*``: Caffe2's collective and store ops and data-parallel training on MPI
  (the ``mpi`` extra).
- :mod:`~caffe2lite.distributed.redis_store`: the store on a Redis server behind
  RedisStoreHandlerCreate (the ``redis`` extra).
- :mod:`caffe2lite.distributed.dask_score` (with :mod:`~caffe2lite.distributed.feeds`):
  scoring a net over the partitions of a Dask DataFrame; the face is
  :mod:`caffe2lite.dask` (the ``dask`` extra).

Nothing here is imported by ``import caffe2lite`` for its engines: each extra is
imported lazily, and a missing one is an error naming it.
"""
