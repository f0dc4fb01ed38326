"""Net surgery: ``Net.ClonePartial`` (the part of a net that computes some blobs from
others) and ``Net.reroute_tensor`` (put a new op between a blob and its readers).

Blobs are tracked by version (each write makes a new one), so an op is needed when
it writes a version that a wanted output depends on and that is not one of the
given inputs (taken at their latest version).
"""

from __future__ import annotations

from typing import Any

from caffe2lite.proto import caffe2_pb2

Versioned = tuple[str, int]


def _versions(net: caffe2_pb2.NetDef, start: dict[str, int]) -> tuple[list, dict[str, int]]:
    """Per op ``(inputs, outputs)`` as versioned blobs, and each blob's last version."""
    latest = dict(start)
    for blob in net.external_input:
        latest.setdefault(blob, 0)
    steps = []
    for op in net.op:
        reads = [(b, latest.get(b, 0)) for b in op.input]
        for b in op.output:
            latest[b] = latest.get(b, 0) + 1
        steps.append((reads, [(b, latest[b]) for b in op.output]))
    return steps, latest


def _needed_ops(steps: list, latest: dict[str, int], given: list[str],
                wanted: list[str]) -> set[int]:
    """Indices of the ops that make ``wanted`` (latest versions) from ``given``."""
    maker: dict[Versioned, int] = {}
    for index, (_, writes) in enumerate(steps):
        for blob in writes:
            maker[blob] = index
    stop = {(b, latest[b]) for b in given}
    pending = [(b, latest[b]) for b in wanted]
    needed: set[int] = set()
    while pending:
        blob = pending.pop()
        if blob in stop or blob not in maker or maker[blob] in needed:
            continue
        needed.add(maker[blob])
        pending.extend(steps[maker[blob]][0])
    return needed


def clone_partial(net: Any, name: str, inputs: Any, outputs: Any,
                  remap_funcs: dict | None = None) -> tuple[Any, list]:
    """See :meth:`caffe2lite.builder.net.Net.ClonePartial`."""
    from caffe2lite.builder.net import NetAssertionError

    if isinstance(inputs, dict):
        renames = {str(k): str(v) for k, v in inputs.items()}
    elif isinstance(inputs, list) and inputs and all(
            isinstance(i, tuple) and len(i) == 2 for i in inputs):
        renames = {str(k): str(v) for k, v in inputs}
    else:
        renames = {str(i): str(i) for i in inputs}
    wanted = [str(o) for o in outputs]
    for blob in wanted:
        if not net.BlobIsDefined(blob):
            raise NetAssertionError(f"{blob} is not defined", blob=blob)
    proto = net.Proto()
    steps, latest = _versions(proto, {b: 0 for b in renames})
    needed = _needed_ops(steps, latest, list(renames), wanted)
    makes_inputs = _needed_ops(steps, latest, [], list(renames))
    if needed & makes_inputs:
        raise NetAssertionError(
            "Cannot partially clone net: some of the ops required would generate the "
            "given input.")
    read_unmade = {b for i in sorted(needed) for b, version in steps[i][0] if version == 0}
    read_unmade -= set(renames)
    prefix = f"{name}/" if name else ""

    def rename(blob: str) -> str:
        if blob in renames:
            return renames[blob]
        return blob if blob in read_unmade else prefix + blob

    mapping = {b: rename(b) for b in latest}
    clone = net.Clone(name, mapping, sorted(needed), remap_funcs)
    clone_proto = clone.Proto()
    del clone_proto.external_input[:]
    clone_proto.external_input.extend([mapping[b] for b in renames] + sorted(read_unmade))
    del clone_proto.external_output[:]
    clone_proto.external_output.extend(mapping[b] for b in wanted)
    return clone, [clone.GetBlobRef(mapping[b]) for b in wanted]


def reroute_tensor(net: Any, tensor: Any, new_producer: caffe2_pb2.OperatorDef,
                   can_modify: Any = None) -> int:
    """See :meth:`caffe2lite.builder.net.Net.reroute_tensor`."""
    from caffe2lite.builder.net import NetAssertionError

    proto = net.Proto()
    tensor = str(tensor)
    ops = proto.op
    if tensor not in new_producer.input:
        raise NetAssertionError(f"new producer {new_producer.type} is not taking in "
                                f"{tensor}", blob=tensor)
    position = -1
    for blob in new_producer.input:
        if blob in proto.external_input:
            continue
        makers = [i for i, op in enumerate(ops) if blob in op.output]
        position = max(position, makers[0] if makers else -2)
    new_ops = list(ops)
    new_ops.insert(position + 1, new_producer)
    del ops[:]
    ops.extend(new_ops)
    new_tensor = new_producer.output[0]
    if tensor in proto.external_output:
        outs = [new_tensor if b == tensor else b for b in proto.external_output]
        del proto.external_output[:]
        proto.external_output.extend(outs)
    changed = 0
    for op in ops:
        if can_modify and op in can_modify and tensor in op.input:
            renamed = [new_tensor if b == tensor else b for b in op.input]
            del op.input[:]
            op.input.extend(renamed)
            changed += 1
    return changed
