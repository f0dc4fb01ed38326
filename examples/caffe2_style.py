"""A Caffe2 script that runs on caffe2lite: only its imports were changed.

In Caffe2 the first lines read ``from caffe2.python import core, workspace`` and
``from caffe2.proto import caffe2_pb2``; everything below them is plain Caffe2. The
script feeds id-list features (ids + lengths, the Caffe2 layout), runs the sparse
dropout op on its own, then builds an init net and a feature net with ops as
attributes, creates the net once and runs it several times.

Run it with ``python examples/caffe2_style.py``.
"""

import numpy as np

from caffe2lite import core, workspace
from caffe2lite.proto import caffe2_pb2

workspace.ResetWorkspace()

# Four users' clicked item ids, flattened, and how many ids each user has.
workspace.FeedBlob("ids", np.array([1, 2, 3, 4, 5, 6], dtype=np.int64))
workspace.FeedBlob("lengths", np.array([3, 1, 0, 2], dtype=np.int32))

# 1. One operator at a time. ratio=1.0 drops every user's list (deterministic):
#    each list, the empty one too, becomes the single replacement value.
drop_all = core.CreateOperator(
    "SparseDropoutWithReplacement",
    ["ids", "lengths"],
    ["ids_out", "lengths_out"],
    ratio=1.0,
    replacement_value=-1,
)
workspace.RunOperatorOnce(drop_all)
print(
    "drop all:  ids",
    workspace.FetchBlob("ids_out").tolist(),
    "lengths",
    workspace.FetchBlob("lengths_out").tolist(),
)

# ratio=0.0 keeps everything.
keep_all = core.CreateOperator(
    "SparseDropoutWithReplacement",
    ["ids", "lengths"],
    ["ids_out", "lengths_out"],
    ratio=0.0,
    replacement_value=-1,
)
workspace.RunOperatorOnce(keep_all)
print(
    "keep all:  ids",
    workspace.FetchBlob("ids_out").tolist(),
    "lengths",
    workspace.FetchBlob("lengths_out").tolist(),
)

# A bad input raises RuntimeError, as in Caffe2, and leaves the blobs as they were.
workspace.FeedBlob("bad_lengths", np.array([3, 1, 0, 3], dtype=np.int32))
try:
    workspace.RunOperatorOnce(
        core.CreateOperator(
            "SparseDropoutWithReplacement",
            ["ids", "bad_lengths"],
            ["ids_out", "lengths_out"],
            ratio=0.5,
        )
    )
except RuntimeError as e:
    print("error:", str(e).splitlines()[0])
print("unchanged: ids", workspace.FetchBlob("ids_out").tolist())

# 2. Nets with ops as attributes: an init net for the embedding table (row i is
#    [i, 10 * i]; id 0, the replacement value, has a zero row) ...
init_net = core.Net("init")
init_net.GivenTensorFill(
    [],
    "embedding",
    shape=[7, 2],
    values=[float(v) for i in range(7) for v in (i, 10 * i)],
)
workspace.RunNetOnce(init_net)

# ... and a feature net: segment dropout (seeded through the device option), then
# an embedding bag per user.
net = core.Net("features")
kept_ids, kept_lengths = net.SparseDropoutWithReplacement(
    ["ids", "lengths"],
    2,
    ratio=0.5,
    replacement_value=0,
    device_option=core.DeviceOption(caffe2_pb2.CPU, random_seed=2025),
)
pooled = net.SparseLengthsSum(["embedding", kept_ids, kept_lengths], "pooled")
net.AddExternalOutput(pooled)
print(
    "net",
    net.Name(),
    "ops",
    [op.type for op in net.Proto().op],
    "outputs",
    [str(b) for b in (kept_ids, kept_lengths)],
)

# CreateNet once, RunNet many times: the op keeps its random generator, so every
# run draws anew, and the whole sequence is the same on every run of the script.
workspace.CreateNet(net)
for step in range(3):
    workspace.RunNet(net.Name())
    print(
        f"run {step}:",
        "lengths",
        workspace.FetchBlob(kept_lengths).tolist(),
        "pooled",
        workspace.FetchBlob("pooled").tolist(),
    )

# RunNetOnce builds a fresh op (and generator) each time: same seed, same result.
workspace.RunNetOnce(net)
first = workspace.FetchBlob("pooled").tolist()
workspace.RunNetOnce(net)
print(
    "RunNetOnce twice gives the same pooled:",
    first == workspace.FetchBlob("pooled").tolist(),
)
print("blobs:", workspace.Blobs())
