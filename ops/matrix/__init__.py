"""Matrix products: FC."""

from __future__ import annotations

from . import fc  # noqa: F401
from . import matmul  # noqa: F401
from . import batch_matmul  # noqa: F401
from . import fc_transposed  # noqa: F401
from . import fb_fc_packed  # noqa: F401
from . import layer_norm  # noqa: F401
from . import lp_norm  # noqa: F401
from . import rms_norm  # noqa: F401
from . import cosine_similarity  # noqa: F401
from . import l1_distance  # noqa: F401
