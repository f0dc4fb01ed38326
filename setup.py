"""The one thing pyproject.toml cannot state stably: the optional C extension.

``_caffe2lite_speedups`` holds the compiled kernels of the two sparse dropout ops
(``ops/_caffe2lite_speedups.c``). It is optional: where no C compiler is at hand
the install still succeeds and the ops run their numpy kernels, with the same
results (``ops/_speedups.py``; ``caffe2lite --version`` says which run).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("_caffe2lite_sparse_update", sources=["ops/_caffe2lite_sparse_update.c"], optional=True),
        Extension("_caffe2lite_embedding", sources=["ops/_caffe2lite_embedding.c"], optional=True),  # noqa: E501
        Extension(
            "_caffe2lite_speedups",
            sources=["ops/_caffe2lite_speedups.c"],
            optional=True,
        )
    ]
)
