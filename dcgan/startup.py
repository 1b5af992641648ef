"""What a backend package does before its framework is imported: environment defaults,
and a start-up without the framework's native log noise.

TensorFlow's C++ runtime writes several lines to the process's standard error
while it loads, before ``TF_CPP_MIN_LOG_LEVEL`` is read (absl's "All log
messages before absl::InitializeLog()", the oneDNN notice, "Could not find
cuda drivers", and an ``E0000 ... cuInit`` line on a machine without a GPU,
which a user reads as an error). :func:`quiet_native_startup` captures the
file descriptor while the framework loads and passes on every line that is
not one of those known notices, so a warning that matters still shows.
``--verbose`` or ``DCGAN_VERBOSE=1`` turns the filter off.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from typing import Iterator, Sequence

FRAMEWORK_DEFAULTS_ENV = "DCGAN_FRAMEWORK_DEFAULTS"
"""Set to 1 to keep each framework's own defaults for the performance settings the
backends otherwise apply (threads, oneDNN)."""

VERBOSE_ENV = "DCGAN_VERBOSE"
"""Set to 1 (or pass ``--verbose``) to see the frameworks' start-up messages."""


def apply_environment_defaults(settings: dict[str, str]) -> None:
    """Set performance environment variables a backend needs before its framework is
    imported: never over a value the user set, and not at all when
    ``$DCGAN_FRAMEWORK_DEFAULTS`` is 1."""
    if os.environ.get(FRAMEWORK_DEFAULTS_ENV) == "1":
        return
    for name, value in settings.items():
        os.environ.setdefault(name, value)


def verbose_requested(argv: Sequence[str] | None = None) -> bool:
    """Whether the user asked for the frameworks' start-up messages: ``$DCGAN_VERBOSE=1``,
    or ``--verbose`` on the command line (read here, since the framework loads before
    the command's parser runs)."""
    argv = sys.argv[1:] if argv is None else argv
    return os.environ.get(VERBOSE_ENV) == "1" or "--verbose" in argv


@contextlib.contextmanager
def quiet_native_startup(noise: Sequence[str]) -> Iterator[None]:
    """Inside, file descriptor 2 (what native code writes to) goes to a temporary file;
    afterwards its lines are written to ``sys.stderr`` except those matching one of the
    regular expressions ``noise``. Does nothing when :func:`verbose_requested`."""
    if verbose_requested():
        yield
        return
    patterns = [re.compile(p) for p in noise]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines()
            kept = [line for line in lines if not any(p.search(line) for p in patterns)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


@contextlib.contextmanager
def modules_hidden(names: Sequence[str]) -> Iterator[None]:
    """Inside, ``import NAME`` raises ImportError for each of ``names`` not imported yet.

    For optional imports inside a framework that would load another framework
    (TensorFlow's TFLite module imports JAX when it is installed, to convert JAX
    models): a backend package must not import another backend's framework."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
