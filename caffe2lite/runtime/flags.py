"""Caffe2's command-line flags, as ``workspace.GlobalInit`` reads them.

Caffe2 parsed ``--name=value`` (or ``--name value``; a bare ``--name`` sets a bool
flag, ``--noname`` clears it) against its registered flags and refused an unknown
one. caffe2lite knows the flags Caffe2's CPU runtime and its Python tests passed,
keeps their values in :data:`FLAGS`, and acts on the ones that mean something here
(none changes results: logging level, thread counts and allocator fills are
accepted and recorded).

>>> GlobalInit(["caffe2", "--caffe2_log_level=0", "--caffe2_omp_num_threads=1"])
True
>>> FLAGS["caffe2_log_level"]
0
"""

from __future__ import annotations

from typing import Any, Sequence

from caffe2lite.errors import ApiValueError, did_you_mean

# name -> (type, default)
_KNOWN: dict[str, tuple[type, Any]] = {
    "caffe2_log_level": (int, 0),
    "caffe2_omp_num_threads": (int, 0),
    "caffe2_mkl_num_threads": (int, 0),
    "caffe2_cpu_allocator_do_zero_fill": (bool, False),
    "caffe2_cpu_allocator_do_junk_fill": (bool, False),
    "caffe2_report_cpu_memory_usage": (bool, False),
    "caffe2_print_blob_sizes_at_exit": (bool, False),
    "caffe2_keep_on_shrink": (bool, True),
    "caffe2_max_keep_on_shrink_memory": (int, 2**63 - 1),
    "caffe2_print_stacktraces": (bool, False),
    "caffe2_use_fatal_for_enforce": (bool, False),
    "caffe2_version": (bool, False),
    "caffe2_quit_on_unsupported_cpu_feature": (bool, False),
    "caffe2_cpu_numa_enabled": (bool, False),
    "caffe2_handle_executor_threads_exceptions": (bool, False),
    "caffe2_disable_chaining": (bool, False),
    "caffe2_dag_net_collect_stats": (bool, False),
    "caffe2_override_executor": (str, ""),
    "caffe2_net_async_thread_pool_size": (int, 0),
    "caffe2_net_async_max_gpus": (int, 16),
    "caffe2_net_async_max_numa_nodes": (int, 8),
    "caffe2_net_async_cpu_pool_size": (int, 0),
    "caffe2_serialize_fp16_as_bytes": (bool, False),
    "caffe2_serialize_using_bytes_as_holder": (bool, False),
    "caffe2_tensor_chunk_size": (int, 1000000),
    "caffe2_max_tensor_serializer_threads": (int, 16),
    "caffe2_workspace_stack_debug": (bool, False),
    "caffe2_streams_per_gpu": (int, 1),
    "caffe2_gpu_memory_tracking": (bool, False),
    "caffe2_cuda_memory_pool": (str, ""),
    "caffe2_engine_preferences": (str, ""),
    "caffe2_operator_throw_if_fp_exceptions": (bool, False),
    "caffe2_operator_max_engine_name_length": (int, 10),
    "v": (int, 0),
    "minloglevel": (int, 0),
    "logtostderr": (bool, False),
    "alsologtostderr": (bool, False),
}

FLAGS: dict[str, Any] = {name: default for name, (_, default) in _KNOWN.items()}
_initialized = False


def _parse(name: str, kind: type, text: str) -> Any:
    if kind is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes"):
            return True
        if lowered in ("0", "false", "no"):
            return False
    elif kind is int:
        try:
            return int(text)
        except ValueError:
            pass
    else:
        return text
    raise ApiValueError(f"Error in global init: C10 flag: illegal value for flag --{name}: "
                        f"{text!r}", arg=name, expected=kind.__name__, found=repr(text))


def GlobalInit(args: Sequence[str]) -> bool:
    """Parse Caffe2's flags (``args[0]`` is the program name). An unknown flag, or a
    value of the wrong type, raises an error that names it; nothing is changed then."""
    parsed: dict[str, Any] = {}
    items = list(args)[1:]
    i = 0
    while i < len(items):
        arg = str(items[i])
        i += 1
        if not arg.startswith("-"):
            continue  # Caffe2 left positional arguments to the program
        body = arg.lstrip("-")
        name, eq, value = body.partition("=")
        if name not in _KNOWN and name.startswith("no") and name[2:] in _KNOWN and not eq:
            if _KNOWN[name[2:]][0] is bool:
                parsed[name[2:]] = False
                continue
        if name not in _KNOWN:
            raise ApiValueError(
                f"Error in global init: C10 flag: unrecognized commandline argument: {arg}"
                + did_you_mean(name, _KNOWN), arg=name)
        kind = _KNOWN[name][0]
        if not eq:
            if kind is bool:
                parsed[name] = True
                continue
            if i >= len(items):
                raise ApiValueError(f"Error in global init: C10 flag: --{name} needs a value",
                                    arg=name, expected=kind.__name__)
            value = str(items[i])
            i += 1
        parsed[name] = _parse(name, kind, value)
    FLAGS.update(parsed)
    global _initialized
    _initialized = True
    return True


def IsInitialized() -> bool:
    return _initialized
