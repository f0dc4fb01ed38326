"""Caffe2's ``core`` module: operators, blob references, nets and gradients.

``from caffe2lite import core`` stands in for ``from caffe2.python import core``:
:func:`CreateOperator`, :class:`BlobReference`, :class:`Net` (ops as attributes,
``AddGradientOperators``), :func:`DeviceOption`, :class:`GradientRegistry`,
:data:`GradientSlice`, ``NameScope`` and ``DeviceScope``, Python functions as
operators (:func:`CreatePythonOperator`, ``Net.Python``), device helpers
(:func:`device_option_equal`, :func:`InferOpBlobDevicesAsDict`) and engine preferences. The work lives in
:mod:`caffe2lite.builder` and :mod:`caffe2lite.gradient`; this module is the face.
"""

from __future__ import annotations

from caffe2lite import gradient, scope  # noqa: F401
from caffe2lite.builder.devices import (
    InjectCrossDeviceCopies,
    InjectDeviceCopiesAmongNets,
    InjectDeviceCopiesAmongNetsWithoutB2D,
)
from caffe2lite.builder.net import Net
from caffe2lite.builder.operator import (
    _REGISTERED_OPERATORS,
    BlobReference,
    CreateOperator,
    CreatePythonOperator,
    DataType,
    DeviceOption,
    InferOpBlobDevices,
    InferOpBlobDevicesAsDict,
    IsGPUDeviceType,
    IsOperator,
    IsOperatorWithEngine,
    ScopedBlobReference,
    ScopedName,
    SetEnginePref,
)
from caffe2lite.builder.plan import ExecutionStep, Plan, execution_step
from caffe2lite.gradient import IR, GradientRegistry, GradientSlice
from caffe2lite.gradient.backward import device_option_equal
from caffe2lite.scope import CurrentDeviceScope, CurrentNameScope, DeviceScope, NameScope

# The backward pass builds its ops with CreateOperator (scopes applied) and returns
# BlobReferences, as Caffe2's did.
gradient.set_core_hooks(CreateOperator, BlobReference)

__all__ = [
    "BlobReference", "CreateOperator", "DataType", "DeviceOption", "DeviceScope",
    "ExecutionStep", "GradientRegistry", "GradientSlice", "IR", "IsOperator",
    "IsOperatorWithEngine", "NameScope", "Net", "Plan", "ScopedBlobReference",
    "ScopedName", "CurrentNameScope", "CurrentDeviceScope", "execution_step", "scope",
    "CreatePythonOperator", "InferOpBlobDevices", "InferOpBlobDevicesAsDict",
    "IsGPUDeviceType", "SetEnginePref", "InjectCrossDeviceCopies",
    "InjectDeviceCopiesAmongNets", "InjectDeviceCopiesAmongNetsWithoutB2D", "device_option_equal", "_REGISTERED_OPERATORS",
]
