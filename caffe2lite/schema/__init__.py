"""Operator schemas and the two registries: ``register_cpu_operator``, ``OpSchema``,
argument specs (:class:`Arg`), the gradient decisions, and the checks kernels share."""

from __future__ import annotations

from caffe2lite.schema.opschema import INT_MAX, REQUIRED, Arg, OpSchema  # noqa: F401
