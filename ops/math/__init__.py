"""Element-wise and reducing arithmetic: Add, Sub, Mul, Scale, Sum, WeightedSum, DotProduct."""

from __future__ import annotations

from . import weighted_sum  # noqa: F401
from . import add  # noqa: F401
from . import dot_product  # noqa: F401
from . import dot_product_with_padding  # noqa: F401
from . import mul  # noqa: F401
from . import scale  # noqa: F401
from . import sub  # noqa: F401
from . import sum  # noqa: F401
from . import batch_box_cox  # noqa: F401
from . import bucketize  # noqa: F401
from . import clip  # noqa: F401
from . import div  # noqa: F401
from . import elementwise_linear  # noqa: F401
from . import logit  # noqa: F401
from . import mean  # noqa: F401
from . import minmax  # noqa: F401
from . import mod  # noqa: F401
from . import nan_check  # noqa: F401
from . import pow  # noqa: F401
from . import replace_nan  # noqa: F401
from . import rowwise_colwise_max  # noqa: F401
from . import sum_elements  # noqa: F401
from . import sum_reduce_like  # noqa: F401
from . import unary_math  # noqa: F401
