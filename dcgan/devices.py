"""Naming devices the same way in every backend.

The frameworks name the same device three ways (PyTorch ``cpu`` and
``cuda:0``, TensorFlow ``/CPU:0`` and ``/GPU:0``, MXNet ``cpu(0)`` and
``gpu(0)``). What a user reads, in the progress line, the run folder and the
comparison report, is one form: ``cpu``, ``gpu:0``.
"""

from __future__ import annotations

import re
from typing import Any

DEVICES = ("auto", "cpu", "gpu", "cuda")
"""The choices of ``--device``; ``cuda`` is another name for ``gpu`` in every backend."""

_DEVICE = re.compile(r"(cpu|gpu|cuda)(?:[:(](\d+))?", re.IGNORECASE)


def requested_device(choice: str) -> str:
    """A ``--device`` choice with ``cuda`` spelled ``gpu``, as the backends take it."""
    return "gpu" if choice == "cuda" else choice


def device_label(device: Any) -> str:
    """A framework's device (or its name) as ``cpu`` or ``gpu:N``."""
    match = _DEVICE.search(str(device))
    if match is None:
        return str(device)
    kind, index = match.group(1).lower(), match.group(2) or "0"
    return "cpu" if kind == "cpu" else f"gpu:{index}"


def on_gpu(device: Any) -> bool:
    """Whether a framework's device (or its name) is a GPU."""
    return device_label(device).startswith("gpu")
