"""Running nets beyond one process on existing distributed engines.

:mod:`caffe2lite.distributed.dask_score` scores a net over the partitions of a Dask
DataFrame (the face is :mod:`caffe2lite.dask`). Nothing here is imported by
``import caffe2lite``; the engines (the ``dask`` extra) are imported lazily.
"""
