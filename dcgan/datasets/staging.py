"""Folders that appear whole or not at all.

Every dataset folder is built under a temporary name beside its final place
and renamed when complete, so the cache never holds a half-made one, even
after a crash or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from dcgan.files import default_mode


@contextlib.contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield an empty folder beside ``target``; publish it as ``target`` if the block succeeds.

    On an exception the staging folder is removed and ``target`` is untouched.
    If another process published ``target`` first, theirs is kept.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", suffix=".part", dir=target.parent))
    os.chmod(staging, default_mode(folder=True))
    try:
        yield staging
        try:
            os.replace(staging, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
