"""Building NetDefs and PlanDefs in Python, Caffe2's way: ``CreateOperator`` and
``BlobReference`` (``operator``), ``core.Net`` (``net``), ``core.Plan`` (``plan``)."""
