"""Writing files so that a crash never leaves a half-written one in place."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


def default_mode(folder: bool = False) -> int:
    """The permissions the user's umask gives a new file (or folder), as ``open`` would.

    ``tempfile`` creates its files 0600 and folders 0700 whatever the umask;
    whatever we create through it is given these instead before it is renamed
    into place, so every output of a run has the same mode.
    """
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if folder else 0o666) & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    Write the file (with any library) to the yielded path. On an exception
    the temporary file is removed and ``path`` keeps its old content, so a
    reader sees either the old file or the complete new one. ``suffix`` keeps
    the extension for libraries that choose a format from it (Keras's
    ``.weights.h5``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".part{suffix}",
                                    dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, default_mode())
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
