"""CreateMutex: a blob holding a mutex, for AtomicIter."""

from __future__ import annotations

import threading

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import unknown_outputs

# How Caffe2 named the type of a mutex blob (BlobProto.type, type-mismatch messages).
MUTEX_TYPE_NAME = "std::unique_ptr<std::mutex>"


class Mutex:
    """The value of a mutex blob: an unlocked lock, usable as ``with mutex: ...``.

    caffe2lite runs the ops of a net one after another, so the lock is only ever
    contended when separate Python threads run nets on a shared workspace.

    >>> m = Mutex()
    >>> with m:
    ...     m.locked()
    True
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> "Mutex":
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def locked(self) -> bool:
        """Whether the mutex is held."""
        return self._lock.locked()

    def __repr__(self) -> str:
        return f"<{MUTEX_TYPE_NAME}>"


@register_cpu_operator(
    "CreateMutex",
    inputs=[],
    outputs=["mutex_ptr"],
    shape=unknown_outputs,
    example=Example({}, {"mutex_ptr": Mutex()}),
    doc="""Creates an unlocked mutex and stores it in the output blob (Caffe2 stored a
std::unique_ptr<std::mutex>; here the blob holds a caffe2lite.ops.train.create_mutex.Mutex
object, which AtomicIter locks).

Example: (no inputs) -> mutex_ptr=<std::unique_ptr<std::mutex>>""",
)
def create_mutex() -> tuple[Mutex]:
    """A new, unlocked :class:`Mutex`."""
    return (Mutex(),)


should_not_do_gradient("CreateMutex")
