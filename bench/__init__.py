"""caffe2lite's benchmark suite: ``python -m bench [--quick] [--json PATH]``.

Each section (dropout, segments, dispatch, memory, training) returns rows of one
table: a measured value, a yardstick measured in the same run, their ratio, and the
target beside it. Timings are never asserted by tests; only ratios are compared.
"""

from __future__ import annotations
