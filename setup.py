"""The one thing pyproject.toml cannot state stably: the optional C extensions.

``_caffe2lite_speedups`` holds the compiled kernels of the two sparse dropout ops
(``ops/_caffe2lite_speedups.c``), ``_caffe2lite_sparse_update`` the in-place sparse
updates (``ops/_caffe2lite_sparse_update.c``) and ``_caffe2lite_embedding`` the
one-pass embedding lookups (``ops/_caffe2lite_embedding.c``). Each is optional:
where no C compiler is at hand the install still succeeds and the ops run their
numpy kernels, with the same results (``ops/_speedups.py``,
``ops/_sparse_update_native.py``, ``ops/_embedding_native.py``; ``caffe2lite
--version`` says which run).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(name, sources=[f"ops/{name}.c"], optional=True)
        for name in (
            "_caffe2lite_speedups",
            "_caffe2lite_sparse_update",
            "_caffe2lite_embedding",
        )
    ]
)
