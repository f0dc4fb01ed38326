"""Building models the Caffe2 way: ModelHelper, brew's helpers, parameter
initializers and optimizers.

The public faces are :mod:`caffe2lite.model_helper`, :mod:`caffe2lite.brew` and
:mod:`caffe2lite.optimizer` (Caffe2's module names); the work lives here:

* :mod:`.parameter_info`: ParameterInfo and ParameterTags, what a model knows about
  one parameter.
* :mod:`.initializers`: Initializer and its kinds, which emit a parameter's fill op
  into the init net.
* :mod:`.model_helper`: ModelHelper, a train net plus its parameter init net.
* :mod:`.helpers` and :mod:`.brew`: one function per layer (``brew.fc`` ...) that
  creates the layer's parameters and ops.
* :mod:`.optimizer`: SGD, Adagrad, Adam ... as ops appended to the train net.
"""
