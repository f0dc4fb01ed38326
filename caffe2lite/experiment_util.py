"""Caffe2's ``experiment_util``: a log of a training run's progress.

``ModelTrainerLog(expname, runtime_args)`` writes ``<expname>_<YYYYmmdd_HHMMSS>.log``
in the current directory: a first line ``# <runtime_args>``, then on the first
:meth:`ModelTrainerLog.log` a header line and after it one comma-separated line per
call (time spent since the last call and in all, inputs since the last call and in
all, batches, inputs per second, then the caller's values sorted by name). Every
line also goes to the ``experiment_logger`` logger, and to the external loggers
given (objects with ``set_runtime_args(dict)`` and ``log(dict)``).
"""

from __future__ import annotations

import abc
import datetime
import logging
import socket
import time
from collections import OrderedDict
from typing import Any

__all__ = ["ExternalLogger", "ModelTrainerLog"]


class ExternalLogger(abc.ABC):
    """A destination for the run's values besides the log file."""

    @abc.abstractmethod
    def set_runtime_args(self, runtime_args: dict) -> None:
        """Receive the run's arguments (with ``experiment_id`` and ``hostname``)."""

    @abc.abstractmethod
    def log(self, log_dict: dict) -> None:
        """Receive one logged line as a dict."""


class ModelTrainerLog:
    """The progress log of one run (see the module doc)."""

    def __init__(self, expname: str, runtime_args: Any,
                 external_loggers: list | None = None) -> None:
        now = datetime.datetime.fromtimestamp(time.time())
        self.experiment_id = f"{expname}_{now.strftime('%Y%m%d_%H%M%S')}"
        self.filename = f"{self.experiment_id}.log"
        self.logstr(f"# {runtime_args}")
        self.headers: list[str] | None = None
        self.start_time = self.last_time = time.time()
        self.last_input_count = 0
        self.external_loggers = list(external_loggers or [])
        if self.external_loggers:
            args = dict(runtime_args) if isinstance(runtime_args, dict) else dict(
                vars(runtime_args))
            args["experiment_id"] = self.experiment_id
            args["hostname"] = socket.gethostname()
            for logger in self.external_loggers:
                logger.set_runtime_args(args)

    def logstr(self, text: str) -> None:
        """Append one line to the log file (and the ``experiment_logger`` logger)."""
        with open(self.filename, "a") as f:
            f.write(text + "\n")
        logging.getLogger("experiment_logger").info(text)

    def log(self, input_count: int, batch_count: int, additional_values: dict) -> None:
        """Log the progress since the last call, with ``additional_values``."""
        now = time.time()
        delta_t, delta_count = now - self.last_time, input_count - self.last_input_count
        self.last_time, self.last_input_count = now, input_count
        values: OrderedDict[str, Any] = OrderedDict()
        values["time_spent"] = delta_t
        values["cumulative_time_spent"] = now - self.start_time
        values["input_count"] = delta_count
        values["cumulative_input_count"] = input_count
        values["cumulative_batch_count"] = batch_count
        values["inputs_per_sec"] = delta_count / delta_t if delta_t > 0 else 0.0
        for key in sorted(additional_values):
            values[key] = additional_values[key]
        if self.headers is None:
            self.headers = list(values)
            self.logstr(",".join(self.headers))
        self.logstr(",".join(str(v) for v in values.values()))
        for logger in self.external_loggers:
            try:
                logger.log(values)
            except Exception as e:  # noqa: BLE001  (a logger's failure never stops training)
                logging.warning("Failed to call ExternalLogger: %s", e)
