"""brew's helper functions, one module per kind of layer (Caffe2's helpers/*.py).

Each helper takes ``(model, blob_in, blob_out, ...)``, creates the layer's parameters
with ``model.create_param`` (their fill ops go to ``model.param_init_net``) and adds
the layer's ops to ``model.net``. Use them through :mod:`caffe2lite.brew`, which
adds the model's and the current ``arg_scope``'s keyword arguments.
"""
