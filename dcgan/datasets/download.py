"""Downloading a file once, checked against its published digest, into the data root."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from dcgan.datasets.errors import OFFLINE_HINT, DatasetError
from dcgan.files import default_mode

DATA_ROOT_ENV = "DCGAN_DATA_ROOT"
"""The environment variable naming the dataset cache."""
DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 20


def default_data_root() -> Path:
    """Where datasets are cached: ``$DCGAN_DATA_ROOT``, else the user's cache folder."""
    if os.environ.get(DATA_ROOT_ENV):
        return Path(os.environ[DATA_ROOT_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "dcgan"


def digest_of(path: Path, algorithm: str = "sha1") -> str:
    """The hex digest of a file (``sha1`` or ``md5``), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, sha1: str, path: Path, algorithm: str = "sha1") -> Path:
    """Fetch ``url`` into ``path`` unless a file with the right digest is already there.

    ``sha1`` is the expected hex digest; ``algorithm`` names its hash (the
    chapter's data hub publishes SHA-1, Fashion-MNIST publishes MD5). The
    bytes go to a temporary file beside ``path``, hashed while they arrive,
    and are renamed into place only when the hash matches; on any failure
    the temporary file is removed, so the cache never holds a partial or
    wrong file.
    """
    path = Path(path)
    if path.is_file() and digest_of(path, algorithm) == sha1:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    os.chmod(tmp, default_mode())
    try:
        digest = hashlib.new(algorithm)
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "dcgan"})
            with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
        if digest.hexdigest() != sha1:
            raise DatasetError(
                f"{url} gave a file with {algorithm.upper()} {digest.hexdigest()}, expected "
                f"{sha1}; nothing was kept. Try again later; if it keeps failing the file has "
                f"changed upstream. {OFFLINE_HINT}")
        os.replace(tmp, path)
    except (urllib.error.URLError, OSError) as err:
        raise DatasetError(f"could not download {url}: {err}. {OFFLINE_HINT}") from err
    finally:
        tmp.unlink(missing_ok=True)
    return path
