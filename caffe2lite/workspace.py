"""Caffe2's ``workspace`` module: named workspaces of blobs and nets (the face of
:mod:`caffe2lite.runtime.workspace`)."""

from caffe2lite.runtime.workspace import *  # noqa: F401,F403
from caffe2lite.runtime.workspace import __all__  # noqa: F401
